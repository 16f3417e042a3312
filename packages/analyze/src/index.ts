/**
 * The quant analyzer of quantsim, as a library, and automatic mixed precision.
 *
 * - `analyze` scores every layer alone, left out and at 16 bits in one switchable ONNX Runtime
 *   session and names causes and fixes (findings, HTML report); `autoMixedPrecision` raises the
 *   bitwidths of the most sensitive groups until the user's score reaches a target, at the lowest
 *   cost, and `writePlanConfig` saves the result as a config file.
 * - `analyzeSensitivity`: per-layer sensitivity analysis in the manner of AIMET's QuantAnalyzer
 *   (each unit alone quantized and alone left in float, weights only, activations only, per-layer
 *   SQNR), the metrics it scores with, and its self-contained HTML and JSON report. The
 *   `quantsim sensitivity` command calls it (and `quantsim analyze` calls `analyze`); `quantsim` re-exports everything here.
 *
 * Folders: `analyzer/` (analyze, evaluation, findings, the analysis report), `amp/` (automatic mixed precision),
 * `metric/` (what a configuration is scored by), `sensitivity/` (quantizer units, the
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

export { type AmpReportContext, ampReportHtml, ampReportJson } from './amp/amp-report.js';
export {
  type AmpFrontPoint,
  type AmpOptions,
  type AmpProgress,
  type AmpResult,
  type AmpRunner,
  autoMixedPrecision,
} from './amp/auto-mixed-precision.js';
export { type AmpCandidate, candidateName } from './amp/candidates.js';
export { type AmpCostModel, costAt, type UnitCost, unitCosts } from './amp/cost.js';
export { type AmpPlanEntry, planBuilder, writePlanConfig } from './amp/plan-config.js';
export {
  type AnalyzeOptions,
  type AnalyzeProgress,
  analyze,
  type LayerAnalysis,
  type ModelScores,
} from './analyzer/analyze.js';
export { sameOutputs, sampleOutputs, stackedOutputs } from './analyzer/batching.js';
export type {
  AmpEvaluation,
  AnalysisEvaluation,
  Configuration,
  ConfigurationEvaluator,
} from './analyzer/configuration-evaluator.js';
export {
  type ConfigurationRunner,
  lossOf,
  type OutputsOf,
  outputSqnrScorer,
  type SampleMetric,
  type Scorer,
  sampleMetricScorer,
} from './analyzer/evaluation.js';
export {
  type AnalysisFinding,
  badness,
  CHANNEL_RANGE_RATIO,
  centralRange,
  channelRangeRatio,
  type FindingInput,
  type FindingKind,
  findAnalysisFindings,
  OUTLIER_RATIO,
  perChannelSuspects,
} from './analyzer/findings.js';
export { type AnalysisMetric, type QuantAnalysisData, QuantAnalysisReport } from './analyzer/quant-report.js';
export {
  type ModelRunner,
  outputSqnrMetric,
  type SensitivityMetric,
  top1AgreementMetric,
  top1AgreementSampleMetric,
} from './metric/sensitivity-metric.js';
export { type SensitivityReportContext, sensitivityReportHtml, sensitivityReportJson } from './report/sensitivity-report.js';
export { type Bar, type BarChart, barChartSvg, escapeXml, formatValue } from './report/svg-bar-chart.js';
export {
  type ChartBar,
  type ChartPoint,
  type ChartSpec,
  formatNumber,
  horizontalBarChart,
  type LineChartSpec,
  lineChart,
  niceTicks,
} from './report/svg-chart.js';
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
