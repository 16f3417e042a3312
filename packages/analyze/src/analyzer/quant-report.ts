import { writeFileAtomically } from '@quantsim/core';
import { escapeXml } from '../report/svg-bar-chart.js';
import { formatNumber, horizontalBarChart } from '../report/svg-chart.js';
import type { LayerAnalysis, ModelScores } from './analyze.js';
import type { AnalysisFinding } from './findings.js';

/** What the analysis scored with. */
export interface AnalysisMetric {
  readonly name: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly samples: number;
}

/** Everything {@link QuantAnalysisReport} holds. */
export interface QuantAnalysisData {
  readonly metric: AnalysisMetric;
  readonly model: ModelScores;
  /** Worst first. */
  readonly layers: readonly LayerAnalysis[];
  /** Worst first. */
  readonly findings: readonly AnalysisFinding[];
  /** Configurations scored (each runs every evaluation sample). */
  readonly configurations: number;
  /** How the per-layer scores were found: some screened in blocks, or every layer alone. */
  readonly search: 'screened' | 'exhaustive';
  readonly elapsedMs: number;
}

/** The result of `analyze`: per-layer scores worst first, findings with fixes, and an HTML report. */
export class QuantAnalysisReport implements QuantAnalysisData {
  readonly metric: AnalysisMetric;
  readonly model: ModelScores;
  readonly layers: readonly LayerAnalysis[];
  readonly findings: readonly AnalysisFinding[];
  readonly configurations: number;
  readonly search: 'screened' | 'exhaustive';
  readonly elapsedMs: number;

  /** @internal Made by `analyze`. */
  constructor(data: QuantAnalysisData) {
    this.metric = data.metric;
    this.model = data.model;
    this.layers = data.layers;
    this.findings = data.findings;
    this.configurations = data.configurations;
    this.search = data.search;
    this.elapsedMs = data.elapsedMs;
  }

  /** Plain data for JSON; infinities become the strings `Infinity` / `-Infinity`. */
  toJSON(): unknown {
    return JSON.parse(
      JSON.stringify(
        {
          metric: this.metric,
          model: this.model,
          layers: this.layers,
          findings: this.findings,
          configurations: this.configurations,
          search: this.search,
          elapsedMs: this.elapsedMs,
        },
        (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
      ),
    );
  }

  /** The report as one self-contained HTML page: charts with axes and values, sortable tables, no network. */
  toHtml(): string {
    return reportHtml(this);
  }

  /** Writes {@link QuantAnalysisReport.toHtml} to `path`, atomically. */
  async writeHtml(path: string): Promise<void> {
    await writeFileAtomically(path, this.toHtml());
  }
}

const MAX_CHART_BARS = 40;

function reportHtml(r: QuantAnalysisData): string {
  const unit = r.metric.unit ? ` ${r.metric.unit}` : '';
  const f = (v: number | undefined) => (v === undefined ? '–' : formatNumber(v));
  const sortKey = (v: number | undefined) => (v === undefined ? '' : String(v));
  const cell = (v: number | undefined) => `<td data-sort="${sortKey(v)}">${f(v)}</td>`;
  // A screened score is its block's: a bound, marked with the side the layer's own score is on.
  const better = r.metric.better === 'higher' ? '≥' : '≤';
  const boundCell = (v: number, block: readonly string[] | undefined, side: string) =>
    block
      ? `<td data-sort="${sortKey(v)}" class="bound" title="${escapeXml(`screened with ${block.length} layers: ${block.join(', ')}`)}">${side} ${f(v)}</td>`
      : cell(v);
  const blockNote = (block: readonly string[] | undefined, side: string) =>
    block ? { note: `its block of ${block.length} layers; this layer alone ${side} that`, bound: side } : {};
  const shown = r.layers.slice(0, MAX_CHART_BARS);
  const charts = [
    horizontalBarChart({
      title: `${r.metric.name} with only this layer quantized (worst first)`,
      axisLabel: `${r.metric.name}${unit} (${r.metric.better} is better)`,
      unit,
      bars: shown.map((l) => ({
        label: l.layer,
        value: l.onlyThisQuantized,
        ...blockNote(l.screened?.onlyThisQuantized, better),
      })),
    }),
    horizontalBarChart({
      title: `${r.metric.name} with everything quantized but this layer`,
      axisLabel: `${r.metric.name}${unit} (quantized model: ${formatNumber(r.model.quantized)}${unit})`,
      unit,
      bars: shown.map((l) => ({ label: l.layer, value: l.allButThisQuantized })),
    }),
    horizontalBarChart({
      title: `${r.metric.name} with this layer at 16 bits, the rest as planned`,
      axisLabel: `${r.metric.name}${unit} (all at 16 bits: ${formatNumber(r.model.all16)}${unit})`,
      unit,
      bars: r.layers
        .filter((l): l is LayerAnalysis & { sixteenBit: number } => l.sixteenBit !== undefined)
        .slice(0, MAX_CHART_BARS)
        .map((l) => ({ label: l.layer, value: l.sixteenBit })),
    }),
  ];
  const layerRows = r.layers
    .map(
      (l, i) =>
        `<tr><td data-sort="${i}">${i + 1}</td><td>${escapeXml(l.layer)}</td><td>${escapeXml(l.opType ?? '')}</td><td>${escapeXml(l.bitwidths.params)}</td><td>${escapeXml(l.bitwidths.activations)}</td>${cell(l.weightsOnly)}${cell(l.activationsOnly)}${boundCell(l.onlyThisQuantized, l.screened?.onlyThisQuantized, better)}${cell(l.allButThisQuantized)}${cell(l.sixteenBit)}<td>${l.findings.map((x) => `<code>${escapeXml(x.fix)}</code>`).join('<br>') || '–'}</td></tr>`,
    )
    .join('\n');
  const findingRows = r.findings
    .map(
      (x) =>
        `<tr><td>${escapeXml(x.layer)}</td><td>${escapeXml(x.kind)}</td>${cell(x.loss)}<td>${escapeXml(x.detail)}</td><td><code>${escapeXml(x.fix)}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>quantsim analysis</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:12px 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f3f3f3;cursor:pointer;user-select:none}
th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
svg.chart{display:block;margin:16px 0;font-size:11px}
code{font-size:12px}
td.bound{color:#777}
</style></head><body>
<h1>Quantization analysis</h1>
<p>Per-layer weights-only, activations-only and 16-bit columns are measured for the layers that matter most (– elsewhere).${
    r.search === 'screened'
      ? ` "Only this quantized" was screened: layers quantized in blocks of neighbours, and the blocks that came out worst split until the worst layers were measured alone. A grey ${better} value is its block's score; the layer alone does at least as well, to the extent that quantization noises add.`
      : ''
  }</p>
<p>Metric: <b>${escapeXml(r.metric.name)}</b>${escapeXml(unit)}, ${r.metric.better} is better, over ${r.metric.samples} samples; ${r.configurations} configurations in ${(r.elapsedMs / 1000).toFixed(1)} s. ∞ means identical to float.</p>
<table id="model"><thead><tr><th>float</th><th>quantized</th><th>weights only</th><th>activations only</th><th>all at 16 bits</th></tr></thead>
<tbody><tr>${cell(r.model.float)}${cell(r.model.quantized)}${cell(r.model.weightsOnly)}${cell(r.model.activationsOnly)}${cell(r.model.all16)}</tr></tbody></table>
<h2>Findings</h2>
<table class="sortable" id="findings"><thead><tr><th>layer</th><th>kind</th><th>loss</th><th>detail</th><th>fix</th></tr></thead><tbody>
${findingRows || '<tr><td colspan="5">none</td></tr>'}
</tbody></table>
<h2>Charts</h2>
${charts.join('\n')}
<h2>Layers (worst first)</h2>
<table class="sortable" id="layers"><thead><tr><th>rank</th><th>layer</th><th>op</th><th>params</th><th>activations</th><th>weights only</th><th>activations only</th><th>only this quantized</th><th>all but this</th><th>this at 16 bits</th><th>recommendation</th></tr></thead><tbody>
${layerRows}
</tbody></table>
<script>
for (const table of document.querySelectorAll('table.sortable')) {
  const heads = [...table.querySelectorAll('th')];
  heads.forEach((th, col) => th.addEventListener('click', () => {
    const asc = !th.classList.contains('sorted-asc');
    heads.forEach((h) => h.classList.remove('sorted-asc', 'sorted-desc'));
    th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
    const body = table.tBodies[0];
    const key = (row) => { const c = row.cells[col]; const s = c?.dataset.sort; if (s !== undefined && s !== '') return Number(s); return c?.textContent ?? ''; };
    const rows = [...body.rows].sort((a, b) => { const x = key(a), y = key(b); const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)); return asc ? d : -d; });
    for (const row of rows) body.appendChild(row);
  }));
}
</script>
</body></html>
`;
}
