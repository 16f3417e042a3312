import type { SensitivityResult, UnitSensitivity } from '../sensitivity/sensitivity.js';
import { barChartSvg, escapeXml, formatValue } from './svg-bar-chart.js';

/** What the report says about the run, besides the numbers. */
export interface SensitivityReportContext {
  /** The model as the user named it (a path, or the CLI's name of a bundled model). */
  readonly model: string;
  /** The quantization plan analyzed, in words (e.g. `W8A8, tf-enhanced, per-tensor`). */
  readonly plan: string;
  readonly calibrationSamples: number;
  readonly backend: string;
  /** When the report was made (ISO 8601). */
  readonly generated: string;
}

/** Bars shown per chart; the tables list every unit. */
const CHART_ROWS = 40;

/**
 * The report as JSON-ready data. Infinite SQNR (outputs identical to float) is written as
 * `null`, since JSON has no infinity; `notes` says so.
 */
export function sensitivityReportJson(result: SensitivityResult, context: SensitivityReportContext): unknown {
  const finite = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);
  return {
    format: 'quantsim-sensitivity/1',
    ...context,
    notes: 'Values are in metric.unit; null means not measured, or an SQNR of +infinity (outputs identical to float).',
    metric: result.metric,
    float: finite(result.float),
    quantized: finite(result.quantized),
    weightsOnly: finite(result.weightsOnly),
    activationsOnly: finite(result.activationsOnly),
    unitCount: result.unitCount,
    configurations: result.configurations,
    elapsedMs: result.elapsedMs,
    perLayerSqnr: result.perLayerSqnr.map((t) => ({ ...t, sqnr: finite(t.sqnr) })),
    units: result.units.map((u) => ({ ...u, onlyQuantized: finite(u.onlyQuantized), onlyFloat: finite(u.onlyFloat) })),
  };
}

/** Sorts units worst first by one of their measurements (missing ones last). */
function worstFirst(
  units: readonly UnitSensitivity[],
  key: 'onlyQuantized' | 'onlyFloat',
  better: 'higher' | 'lower',
): UnitSensitivity[] {
  // With only one unit quantized, the worst is the lowest SQNR (highest error); with only one
  // left in float, the most telling is the one that recovers the most: the best value.
  const sign = (key === 'onlyQuantized') === (better === 'higher') ? 1 : -1;
  return units
    .filter((u) => u[key] !== undefined)
    .sort((a, b) => sign * ((a[key] as number) - (b[key] as number)) || a.unit.localeCompare(b.unit));
}

/**
 * A self-contained HTML report: one inline SVG chart per analysis and tables of every number.
 * No scripts and no external resources, so it opens offline and can be archived as one file.
 */
export function sensitivityReportHtml(result: SensitivityResult, context: SensitivityReportContext): string {
  const m = result.metric;
  const unit = m.unit;
  const digits = unit === '%' ? 2 : 1;
  const val = (v: number | undefined) => `${formatValue(v, digits)}${v === undefined || !Number.isFinite(v) ? '' : ` ${unit}`}`;
  const sections: string[] = [];
  const summary = [
    ['float model', result.float],
    ['all quantized', result.quantized],
    ['weights only quantized', result.weightsOnly],
    ['activations only quantized', result.activationsOnly],
  ] as const;
  sections.push(
    section(
      'Weights versus activations',
      `The ${m.name} of the float model, of the whole plan, and with only the parameter (weight) quantizers or only the activation quantizers on. The larger gap to float points at what to fix first.`,
      barChartSvg({
        title: `${m.name} (${m.better} is better)`,
        unit,
        digits,
        bars: summary.filter(([, v]) => v !== undefined).map(([label, value]) => ({ label, value })),
      }),
    ),
  );
  if (result.perLayerSqnr.length > 0) {
    sections.push(
      section(
        'Per-layer SQNR, all quantizers on',
        `SQNR of each quantized activation against float with the whole plan on (noise accumulates along the network), worst ${Math.min(CHART_ROWS, result.perLayerSqnr.length)} of ${result.perLayerSqnr.length} shown.`,
        barChartSvg({
          title: 'SQNR by tensor (dB, higher is better)',
          unit: 'dB',
          bars: result.perLayerSqnr
            .slice(0, CHART_ROWS)
            .map((t) => ({ label: t.layer ?? t.tensor, value: t.sqnr, note: `tensor ${t.tensor}` })),
        }),
      ),
    );
  }
  const onlyQuantized = worstFirst(result.units, 'onlyQuantized', m.better);
  if (onlyQuantized.length > 0)
    sections.push(
      section(
        'Only one layer quantized',
        `The ${m.name} with one layer's quantizers on and every other quantizer off (AIMET's per-layer analysis with quantizers enabled), most sensitive first. These are the layers to give more bits.`,
        barChartSvg({
          title: `${m.name} with only this layer quantized (${m.better} is better)`,
          unit,
          digits,
          bars: onlyQuantized.slice(0, CHART_ROWS).map((u) => ({ label: u.unit, value: u.onlyQuantized, note: u.opType })),
        }),
      ),
    );
  const onlyFloat = worstFirst(result.units, 'onlyFloat', m.better);
  if (onlyFloat.length > 0)
    sections.push(
      section(
        'Only one layer in float',
        `The ${m.name} with every quantizer on except one layer's (AIMET's per-layer analysis with quantizers disabled); the layers that recover the most come first. All quantized: ${val(result.quantized)}.`,
        barChartSvg({
          title: `${m.name} with only this layer in float (${m.better} is better)`,
          unit,
          digits,
          bars: onlyFloat.slice(0, CHART_ROWS).map((u) => ({ label: u.unit, value: u.onlyFloat, note: u.opType })),
        }),
      ),
    );
  const unitRows = result.units.map(
    (u) =>
      `<tr><td>${escapeXml(u.unit)}</td><td>${escapeXml(u.opType ?? '')}</td><td>${escapeXml(u.layers.join(', '))}</td><td class="num">${val(u.onlyQuantized)}</td><td class="num">${val(u.onlyFloat)}</td></tr>`,
  );
  sections.push(
    `<section><h2>Numbers by layer</h2><table><thead><tr><th>layer</th><th>op</th><th>layers in unit</th><th>only this quantized</th><th>only this in float</th></tr></thead><tbody>${unitRows.join('\n')}</tbody></table></section>`,
  );
  if (result.perLayerSqnr.length > 0)
    sections.push(
      `<section><h2>SQNR by tensor</h2><table><thead><tr><th>tensor</th><th>layer</th><th>SQNR</th></tr></thead><tbody>${result.perLayerSqnr
        .map(
          (t) =>
            `<tr><td>${escapeXml(t.tensor)}</td><td>${escapeXml(t.layer ?? '')}</td><td class="num">${formatValue(t.sqnr)} dB</td></tr>`,
        )
        .join('\n')}</tbody></table></section>`,
    );
  const facts = [
    ['model', context.model],
    ['plan', context.plan],
    ['metric', `${m.name} in ${unit}, ${m.better} is better, over ${m.samples} sample${m.samples === 1 ? '' : 's'}`],
    ['calibration', `${context.calibrationSamples} samples`],
    ['backend', context.backend],
    ['layers analyzed', `${result.units.length} of ${result.unitCount}`],
    ['simulations measured', `${result.configurations} in ${(result.elapsedMs / 1000).toFixed(1)} s`],
    ['generated', context.generated],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>quantsim sensitivity: ${escapeXml(context.model)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 980px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 32px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dt { color: #666; } dd { margin: 0; }
.chart .bar { fill: #3b6ea8; } .chart .bar.negative { fill: #c0504d; } .chart .axis { stroke: #999; }
.chart text { font: 12px system-ui, sans-serif; fill: #333; } .chart .title { font-weight: 600; font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; } th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
</style></head>
<body>
<h1>Quantization sensitivity</h1>
<dl>${facts.map(([k, v]) => `<dt>${escapeXml(k ?? '')}</dt><dd>${escapeXml(v ?? '')}</dd>`).join('')}</dl>
${sections.join('\n')}
</body></html>
`;
}

function section(title: string, text: string, svg: string): string {
  return `<section><h2>${escapeXml(title)}</h2><p>${escapeXml(text)}</p>\n${svg}\n</section>`;
}
