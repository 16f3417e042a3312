/**
 * The quant analyzer of quantsim, as a library: per-layer sensitivity analysis in the manner of
 * AIMET's QuantAnalyzer (each unit alone quantized and alone left in float, weights only,
 * activations only, per-layer SQNR), the metrics it scores with, and its self-contained HTML and
 * JSON report. The `quantsim analyze` command calls it; `quantsim` re-exports it.
 *
 * Folders: `metric/` (what a configuration is scored by), `sensitivity/` (quantizer units, the
 * simulation variants and the analysis), `report/` (SVG charts, HTML and JSON).
 *
 * ### Examples
 * ```ts
 * import { analyzeSensitivity, mostSensitiveUnits, outputSqnrMetric, quant } from 'quantsim';
 *
 * const sim = await quant('detector.onnx').calibrate(calibration);
 * const result = await analyzeSensitivity(sim, {
 *   metric: outputSqnrMetric(evaluation, (feeds) => sim.runFloat(feeds)),
 *   compareSamples: evaluation.slice(0, 4),
 * });
 * console.log(mostSensitiveUnits(result, 5).map((u) => u.unit));
 * ```
 *
 * @packageDocumentation
 */
export { type ModelRunner, outputSqnrMetric, type SensitivityMetric, top1AgreementMetric } from './metric/sensitivity-metric.js';
export { type SensitivityReportContext, sensitivityReportHtml, sensitivityReportJson } from './report/sensitivity-report.js';
export { type Bar, type BarChart, barChartSvg, escapeXml, formatValue } from './report/svg-bar-chart.js';
export { type QuantUnit, quantUnits } from './sensitivity/quant-units.js';
export {
  analyzeSensitivity,
  mostSensitiveUnits,
  SENSITIVITY_ANALYSES,
  type SensitivityAnalysis,
  type SensitivityOptions,
  type SensitivityProgress,
  type SensitivityResult,
  type TensorSqnr,
  type UnitSensitivity,
} from './sensitivity/sensitivity.js';
export { exactNames, withQuantizersDisabled } from './sensitivity/sim-variant.js';
