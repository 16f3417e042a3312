import { escapeXml, formatNumber, lineChart } from '../report/svg-chart.js';
import type { AmpFrontPoint, AmpResult } from './auto-mixed-precision.js';
import { candidateName } from './candidates.js';

/** What the AMP report says about the run, besides the numbers. */
export interface AmpReportContext {
  /** The model as the user named it. */
  readonly model: string;
  /** The plan's settings, in words (e.g. `W8A8, tf-enhanced, per-channel`); the candidates set the bitwidths. */
  readonly plan: string;
  /** The metric's name and unit, e.g. `output SQNR (dB)`. */
  readonly metric: string;
  readonly better: 'higher' | 'lower';
  /** The candidates offered, by name, cheapest first. */
  readonly candidates: readonly string[];
  readonly cost: string;
  readonly calibrationSamples: number;
  readonly elapsedMs: number;
  /** When the report was made (ISO 8601). */
  readonly generated: string;
}

/** The result's numbers as JSON-ready data (non-finite scores are written as `null`). */
export function ampReportJson(result: Omit<AmpResult, 'sim' | 'saveConfig'>, context: AmpReportContext): unknown {
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    format: 'quantsim-amp/1',
    ...context,
    float: finite(result.float),
    target: finite(result.target),
    score: finite(result.score),
    reached: result.reached,
    plan: result.plan.map((e) => ({ group: e.group, candidate: candidateName(e.candidate), quantizers: e.quantizers })),
    front: result.front.map((p) => ({ cost: p.cost, score: finite(p.score), changes: p.changes })),
  };
}

function changeList(p: AmpFrontPoint): string {
  const entries = Object.entries(p.changes);
  return entries.length === 0 ? 'none' : entries.map(([g, c]) => `${g} → ${c}`).join(', ');
}

/** A self-contained HTML page: the front as a chart (cost against score) and as a table, and the plan. */
export function ampReportHtml(result: Omit<AmpResult, 'sim' | 'saveConfig'>, context: AmpReportContext): string {
  const start = candidateName(result.start);
  const raised = result.plan.filter((e) => candidateName(e.candidate) !== start);
  const chosenKeys = raised
    .map((e) => e.group)
    .sort()
    .join('\n');
  // The chosen plan is the front's last point with exactly its raises (the walk records each plan it keeps).
  const chosen = result.front.findLastIndex((p) => Object.keys(p.changes).sort().join('\n') === chosenKeys);
  const chart = lineChart({
    title: 'Pareto front of the greedy walk',
    xLabel: `cost (${context.cost}, relative to float)`,
    yLabel: context.metric,
    points: result.front.map((p, i) => ({
      x: p.cost,
      y: p.score,
      label: `step ${i}: cost ${formatNumber(p.cost, 4)}, score ${formatNumber(p.score)}; raised: ${changeList(p)}`,
      highlight: i === chosen,
    })),
    level: { y: result.target, label: `target ${formatNumber(result.target)}` },
  });
  const rows = result.front
    .map(
      (p, i) =>
        `<tr${i === chosen ? ' class="chosen"' : ''}><td>${i}</td><td>${formatNumber(p.cost, 4)}</td><td>${formatNumber(p.score)}</td><td>${Object.keys(p.changes).length}</td><td>${escapeXml(changeList(p))}</td></tr>`,
    )
    .join('\n');
  const planRows = raised
    .map(
      (e) =>
        `<tr><td>${escapeXml(e.group)}</td><td>${escapeXml(candidateName(e.candidate))}</td><td>${e.quantizers.length}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>quantsim AMP: ${escapeXml(context.model)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
tr.chosen{background:#e8f8f0}.tick{font-size:11px}.axis-label{font-size:12px}
</style></head><body>
<h1>Automatic mixed precision: ${escapeXml(context.model)}</h1>
<p>Plan: ${escapeXml(context.plan)}; every group starts at ${escapeXml(start)}. Candidates: ${escapeXml(context.candidates.join(', '))}. Cost: ${escapeXml(context.cost)}.
Metric: ${escapeXml(context.metric)}, ${context.better} is better. ${context.calibrationSamples} calibration samples; ${(context.elapsedMs / 1000).toFixed(1)} s.</p>
<p>Float ${formatNumber(result.float)}; target ${formatNumber(result.target)}; chosen plan ${formatNumber(result.score)}:
<strong>${result.reached ? 'target reached' : 'target not reached'}</strong>.</p>
${chart}
<h2>Front</h2>
<table><thead><tr><th>step</th><th>cost</th><th>score</th><th>groups raised</th><th>raised</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Plan</h2>
<p>${raised.length} of ${result.plan.length} groups raised above ${escapeXml(start)} (cost ${formatNumber(result.cost, 4)}); the others stay at ${escapeXml(start)}.</p>
<table><thead><tr><th>group</th><th>candidate</th><th>quantizers</th></tr></thead><tbody>
${planRows}
</tbody></table>
<p>Generated ${escapeXml(context.generated)} by quantsim.</p>
</body></html>
`;
}
