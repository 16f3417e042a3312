/**
 * quantsim's quant analyzer and automatic mixed precision: `analyze` scores every layer alone,
 * left out and at 16 bits in one switchable ONNX Runtime session and names causes and fixes;
 * `autoMixedPrecision` raises the bitwidths of the most sensitive groups until the user's score
 * reaches a target, at the lowest cost.
 *
 * @packageDocumentation
 */

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
export { type AnalysisMetric, type QuantAnalysisData, QuantAnalysisReport } from './report/quant-report.js';
export { type ChartBar, type ChartSpec, escapeXml, formatNumber, horizontalBarChart, niceTicks } from './report/svg-chart.js';
