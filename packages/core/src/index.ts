/**
 * quantsim's core: ONNX model I/O, the graph view, the builder and plan, calibration,
 * encodings, and the contracts for backends, encoding schemes and rules.
 *
 * @packageDocumentation
 */

export * from './backend/index.js';
export type { BuilderState } from './builder/builder-state.js';
export { createQuant, type QuantCallOptions, type QuantFunction, type QuantSetup } from './builder/create-quant.js';
export { createSwitchableSim } from './builder/create-switchable-sim.js';
export { resolveQuantConfig } from './builder/named-config.js';
export type {
  BuilderServices,
  CarriedEncodings,
  LoadEncodingsOptions,
  LoadedEncodings,
  QuantizerOptions,
  ResolvedPlan,
} from './builder/options.js';
export { PluginSet, type WarningSink } from './builder/plugin-set.js';
export type { QuantBuilder } from './builder/quant-builder.js';
export {
  QuantSim,
  type SimulationCallbacks,
  type SimulationInput,
  type TensorComparison,
} from './builder/quant-sim.js';
export {
  type CalibrateOptions,
  type CalibrationProgress,
  type CalibrationStats,
  collectStats,
  mergeCalibrationStats,
  statisticsRequests,
} from './calibrate/collect.js';
export {
  computeDerived,
  computeProduct,
  type DerivedRange,
  deriveRange,
  type ProductOf,
} from './calibrate/derived-values.js';
export { dryRunShapes } from './calibrate/dry-run-shapes.js';
export {
  type CalibrationData,
  checkFeeds,
  type FeedsLike,
  iterateData,
  type TensorLike,
  typeOfArray,
} from './calibrate/feeds.js';
export { wasmKernelsStatus } from './calibrate/kernels.js';
export {
  buildStatisticsGraph,
  type StatisticsOutputs,
  type TensorRequest,
} from './calibrate/statistics-graph.js';
export {
  openStatisticsJob,
  type StatisticsJob,
  type StatisticsJobRunner,
  type StatisticsJobRunOptions,
} from './calibrate/statistics-job.js';
export type { ThreadCalibrateOptions } from './calibrate/thread-pool.js';
export type { ThreadPoolReport } from './calibrate/worker-memory.js';
export type {
  Backend,
  BackendCapabilities,
  BackendProbe,
  BackendRecipe,
  BackendSession,
  QdqElementType,
  SessionOptions,
} from './contracts/backend.js';
export type { ChannelEncoding, Encoding, EncodingMap } from './contracts/encoding.js';
export type { GraphReader } from './contracts/graph.js';
export type { ModelView } from './contracts/model.js';
export type { QuantPlanView } from './contracts/plan.js';
export type { NamedQuantConfig, Plugin } from './contracts/plugin.js';
export type {
  Diagnostic,
  QuantizerChange,
  Rule,
  RuleContext,
  RulePhase,
  SelectorReport,
} from './contracts/rule.js';
export type { EncodingScheme } from './contracts/scheme.js';
export type { HistogramData, TensorStats } from './contracts/stats.js';
export type { Feeds, TensorArray, TensorData, TensorMap } from './contracts/tensor.js';
export { computeEncodings, encodingFromStats, paramEncoding, paramStats } from './encode/compute-encodings.js';
export * from './encode/index.js';
export { fakeQuantizeWeights, quantizeToGrid } from './encode/quantize-to-grid.js';
export { CalibrationError } from './errors/calibration-error.js';
export { QUANTSIM_ERROR_CODES } from './errors/codes.js';
export { ConfigFileError } from './errors/config-file-error.js';
export { type EditDistanceOptions, editDistance } from './errors/edit-distance.js';
export { FeedError } from './errors/feed-error.js';
export { GraphStructureError } from './errors/graph-structure-error.js';
export { ExternalDataError, ModelLoadError, ModelSaveError } from './errors/model-errors.js';
export { NotCalibratedError } from './errors/not-calibrated-error.js';
export { PostTrainingError } from './errors/post-training-error.js';
export {
  describeValue,
  InvalidArgumentError,
  QuantsimError,
  type QuantsimErrorCode,
  type QuantsimErrorOptions,
  toError,
  UnsupportedError,
} from './errors/quantsim-error.js';
export { RuleViolationError } from './errors/rule-violation-error.js';
export { type StaleEncoding, StaleEncodingsError } from './errors/stale-encodings-error.js';
export { UnknownConfigError } from './errors/unknown-config-error.js';
export { UnsupportedBitwidthError, type UnsupportedBitwidthQuantizer } from './errors/unsupported-bitwidth-error.js';
export {
  EXPORT_FORMATS,
  type ExportedFiles,
  type ExportFormat,
  type ExportOptions,
  type ExportSource,
  exportPaths,
  exportSimulation,
} from './export/export-simulation.js';
export * from './export/index.js';
export { buildQdqModel, QDQ_EXPORT_OPSET } from './export/qdq/build.js';
export {
  constantValue,
  type Dim,
  GraphView,
  type GraphViewOptions,
  type Layer,
  type NodeView,
  type ParamRef,
  type ShapeSource,
  stableNodeNames,
  type TensorRole,
  type TensorView,
} from './graph/graph-view.js';
export { DATA_MOVEMENT_OPS, PARAM_INPUTS, type ParamRole, VALUE_FORWARDING_OPS } from './graph/op-roles.js';
export { layersWithBranches, nodeWithBranches, tensorWithBranches } from './graph/scopes.js';
export { type FileToWrite, writeFileAtomically, writeFilesAtomically } from './io/atomic-write.js';
export type { FileIdentity } from './io/file-identity.js';
export { fileSetFolder, type WriteFileSetOptions, writeFileSet } from './io/file-set.js';
export { type LoadModelOptions, loadModel, loadModelSync, MAX_IR_VERSION, MIN_IR_VERSION } from './model/load.js';
export { Model, type ModelOrigin } from './model/model.js';
export { ModelBuilder } from './model/model-builder.js';
export { PROTOBUF_LIMIT, type SavedModel, type SaveModelOptions, saveModel } from './model/save.js';
export { forEachTensor } from './model/tensors.js';
export { type DTypeName, dtypeByteSize, dtypeCode, dtypeName, isFloatType } from './onnx/dtype.js';
export {
  type AttrValue,
  FloatAttr,
  float,
  makeAttribute,
  makeNode,
  makeTensor,
  makeValueInfo,
  typedTensor,
} from './onnx/factory.js';
export {
  type ExternalReader,
  elementCount,
  float32ToBytes,
  halfToFloat,
  int64ToBytes,
  tensorToFloat32,
} from './onnx/tensor-values.js';
export {
  type ConfigOpSettings,
  type ConfigQuantizerOverride,
  type ConfigQuantizerSettings,
  parseQuantConfig,
  type QuantConfig,
  readQuantConfig,
} from './plan/config-file.js';
export { AIMET_DEFAULTS, MAX_BITWIDTH, MIN_BITWIDTH, type QuantDefaults } from './plan/defaults.js';
export type { OverrideData, OverrideFields, OverrideTarget } from './plan/overrides.js';
export { DEFAULT_SUPERGROUPS, type Placement, placeQuantizers, type QuantizerSlot } from './plan/placement.js';
export { QuantPlan, type SkippedTensor } from './plan/plan.js';
export { type PlannedModel, type PreparedModel, PreparedModelCache } from './plan/prepared-model.js';
export type { LayerPredicate, PatternData, SelectorData } from './plan/selector.js';
export { type GridSpec, QUANTIZER_FIELDS, type QuantizerField, type QuantizerKind, type QuantizerSpec } from './plan/spec.js';
// Post-training techniques (AIMET's CLE, bias correction, Sequential MSE).
export {
  BIAS_CORRECTED_OPS,
  type BiasCorrectionOptions,
  type BiasCorrectionRecord,
  correctBiases,
  type PostTrainingInput,
} from './ptq/bias-correction.js';
export {
  applyPostTraining,
  type EffectiveSteps,
  effectiveSteps,
  keepFirstSamples,
  markPostTrainingSteps,
  type PostTrainingReport,
  type PostTrainingRun,
  type PostTrainingSteps,
  postTrainingSamples,
} from './ptq/post-training.js';
export { SEQ_MSE_OPS, type SeqMseOptions, type SeqMseRecord, type SeqMseSkipped, sequentialMse } from './ptq/seq-mse.js';
export { chooseForm, type OnnxQuantization, onnxQuantization, type QuantizerForm } from './simulate/qdq-form.js';
export { buildSimulatedModel, type SimulatedModel, type SimulatedModelOptions } from './simulate/simulated-model.js';
export { findStaleEncodings } from './simulate/stale-encodings.js';
export {
  buildSwitchableModel,
  defaultSwitchGroup,
  quantizerUnit,
  type SwitchableModel,
  type SwitchableModelOptions,
  type SwitchableVariant,
  type SwitchGroup,
} from './simulate/switchable-model.js';
export { SwitchableSim, type SwitchableSimOptions, type SwitchSetting } from './simulate/switchable-sim.js';
export { convertOpset, convertToOpset, MAX_CONVERTIBLE_OPSET, type OpsetConversion } from './transform/convert-opset.js';
export {
  type BatchNormStats,
  type EqualizationReport,
  type EqualizedSet,
  type EqualizeOptions,
  equalizeModel,
  foldedBatchNormStats,
  inputChannelRanges,
  outputChannelRanges,
  type SkippedEqualization,
} from './transform/equalize.js';
export { type FoldedBatchNorm, foldBatchNorms } from './transform/fold-batchnorm.js';
export { sortNodes } from './transform/sort-nodes.js';
