/**
 * quantsim's core: ONNX model I/O, the graph view, the builder and plan, calibration,
 * encodings, and the contracts for backends, encoding schemes and rules.
 *
 * @packageDocumentation
 */

export * from './backend/index.js';
export {
  type CalibrateOptions,
  CalibrationError,
  type CalibrationProgress,
  type CalibrationStats,
  collectStats,
  mergeCalibrationStats,
  statisticsRequests,
} from './calibrate/collect.js';
export { computeEncodings, encodingFromStats, paramStats } from './calibrate/compute-encodings.js';
export {
  type CalibrationData,
  checkFeeds,
  FeedError,
  type FeedsLike,
  iterateData,
  type TensorLike,
  typeOfArray,
} from './calibrate/feeds.js';
export { buildStatisticsGraph, type StatisticsOutputs, type TensorRequest } from './calibrate/statistics-graph.js';
export type {
  Backend,
  BackendCapabilities,
  BackendProbe,
  BackendSession,
  QdqElementType,
  SessionOptions,
} from './contracts/backend.js';
export type { ChannelEncoding, Encoding, EncodingMap } from './contracts/encoding.js';
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
export * from './encoding/index.js';
export { ExternalDataError, ModelLoadError, ModelSaveError } from './errors/model-errors.js';
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
export { UnsupportedBitwidthError, type UnsupportedBitwidthQuantizer } from './errors/unsupported-bitwidth-error.js';
export * from './export/index.js';
export { buildQdqModel, QDQ_EXPORT_OPSET } from './export/qdq-model.js';
export { dryRunShapes } from './graph/dry-run-shapes.js';
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
export { DATA_MOVEMENT_OPS, PARAM_INPUTS, type ParamRole } from './graph/op-roles.js';
export { type FileToWrite, writeFileAtomically, writeFilesAtomically } from './io/atomic-write.js';
export { type LoadModelOptions, loadModel, loadModelSync, MAX_IR_VERSION, MIN_IR_VERSION } from './model/load.js';
export { Model, type ModelOrigin } from './model/model.js';
export { PROTOBUF_LIMIT, type SavedModel, type SaveModelOptions, saveModel } from './model/save.js';
export { forEachTensor } from './model/tensors.js';
export { type DTypeName, dtypeByteSize, dtypeCode, dtypeName, isFloatType } from './onnx/dtype.js';
export {
  type AttrValue,
  FloatAttr,
  float,
  ModelBuilder,
  makeAttribute,
  makeTensor,
  makeValueInfo,
} from './onnx/model-builder.js';
export {
  type ExternalReader,
  elementCount,
  float32ToBytes,
  halfToFloat,
  int64ToBytes,
  tensorToFloat32,
} from './onnx/tensor-values.js';
export type {
  BuilderServices,
  CarriedEncodings,
  LoadEncodingsOptions,
  LoadedEncodings,
  QuantizerOptions,
  ResolvedPlan,
} from './quant/builder.js';
export type { BuilderState } from './quant/builder-state.js';
export {
  ConfigFileError,
  type ConfigOpSettings,
  type ConfigQuantizerSettings,
  parseQuantConfig,
  type QuantConfig,
  readQuantConfig,
} from './quant/config-file.js';
export { createQuant, type QuantCallOptions, type QuantFunction, type QuantSetup } from './quant/create-quant.js';
export { AIMET_DEFAULTS, MAX_BITWIDTH, MIN_BITWIDTH, type QuantDefaults } from './quant/defaults.js';
export { resolveQuantConfig, UnknownConfigError } from './quant/named-config.js';
export type { OverrideData, OverrideFields, OverrideTarget } from './quant/overrides.js';
export { DEFAULT_SUPERGROUPS, type Placement, placeQuantizers, type QuantizerSlot } from './quant/placement.js';
export { QuantPlan, type SkippedTensor } from './quant/plan.js';
export { PluginSet, type WarningSink } from './quant/plugin-set.js';
export { type PreparedModel, PreparedModelCache } from './quant/prepared-model.js';
export type { QuantBuilder } from './quant/quant-builder.js';
export type { LayerPredicate, PatternData, SelectorData } from './quant/selector.js';
export { type GridSpec, QUANTIZER_FIELDS, type QuantizerField, type QuantizerKind, type QuantizerSpec } from './quant/spec.js';
export {
  EXPORT_FORMATS,
  type ExportedFiles,
  type ExportFormat,
  type ExportOptions,
  type ExportSource,
  exportPaths,
  exportSimulation,
} from './sim/export-simulation.js';
export { chooseForm, type OnnxQuantization, onnxQuantization, type QuantizerForm } from './sim/qdq-form.js';
export { NotCalibratedError, QuantSim, type TensorComparison } from './sim/quant-sim.js';
export { buildSimulatedModel, type SimulatedModel, type SimulatedModelOptions, typedTensor } from './sim/simulated-model.js';
export { fakeQuantizeWeights, quantizeToGrid } from './sim/weights.js';
export { convertOpset, convertToOpset, MAX_CONVERTIBLE_OPSET, type OpsetConversion } from './transform/convert-opset.js';
export { type FoldedBatchNorm, foldBatchNorms } from './transform/fold-batchnorm.js';
export { sortNodes } from './transform/sort-nodes.js';
