/**
 * The `quantsim` command line, also usable as a library: `runCli`, the commands (`inspect`,
 * `quantize`, `analyze`, `demo`), the `.npy` reader, the `--config` format, per-layer
 * sensitivity analysis with its HTML report, and the OCR helpers of the demo (PNG loading,
 * CTC decoding, character error rate).
 *
 * @packageDocumentation
 */
export { type QuantUnit, quantUnits } from './analyze/quant-units.js';
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
} from './analyze/sensitivity.js';
export {
  type ModelRunner,
  outputSqnrMetric,
  type SensitivityMetric,
  top1AgreementMetric,
} from './analyze/sensitivity-metric.js';
export { type SensitivityReportContext, sensitivityReportHtml, sensitivityReportJson } from './analyze/sensitivity-report.js';
export { exactNames, withQuantizersDisabled } from './analyze/sim-variant.js';
export { type Bar, type BarChart, barChartSvg, escapeXml, formatValue } from './analyze/svg-bar-chart.js';
export { BUNDLED_MODELS, bundledAssetsDir, resolveModelArgument } from './bundled-models.js';
export { createCliQuant } from './cli-quant.js';
export {
  type AnalyzeMetric,
  type AnalyzeOptions,
  type AnalyzeOutcome,
  analyzeCommand,
  parseAnalyses,
} from './commands/analyze.js';
export { type DemoOptions, type DemoOutcome, type DemoRow, demoCommand } from './commands/demo.js';
export { describeModel, type InspectOptions, inspectCommand } from './commands/inspect.js';
export {
  buildPlan,
  describePlan,
  layerPattern,
  parseFormats,
  positiveInteger,
  type QuantPlanOptions,
  quantPlanOptions,
} from './commands/quant-options.js';
export {
  type CommandIO,
  DEFAULT_CLI_FORMATS,
  type QuantizeOptions,
  type QuantizeOutcome,
  quantizeCommand,
} from './commands/quantize.js';
export { applyDefaults, applyOverrides, checkSelectors, type SourcedOverrides } from './config/apply-quant-config.js';
export { formatJsonPath, QuantConfigError } from './config/quant-config-error.js';
export {
  type QuantConfigFile,
  type QuantizerSetting,
  type QuantOverrideEntry,
  quantConfigSchema,
} from './config/quant-config-schema.js';
export { readQuantConfigFile, validateQuantConfig } from './config/read-quant-config.js';
export { parseSetShorthand } from './config/set-shorthand.js';
export { type NpySamples, openNpySamples } from './data/calibration-files.js';
export {
  decodeNpy,
  encodeNpy,
  type NpyArray,
  type NpyHeader,
  parseNpyHeader,
  readNpy,
  readNpyHeader,
} from './data/npy-format.js';
export { CliInputError } from './errors/cli-input-error.js';
export { displayPath, formatTable } from './format.js';
export { ctcGreedyDecode } from './ocr/ctc-decode.js';
export { bundledOcrDictionaryPath, loadOcrDictionary, type OcrDictionary } from './ocr/ocr-dictionary.js';
export {
  defaultOcrLinesDir,
  loadOcrLines,
  OCR_LINES_FORMAT,
  type OcrLineLabel,
  type OcrLineSample,
  type OcrLinesLabels,
  type OcrLinesSplit,
  readOcrLinesLabels,
} from './ocr/ocr-lines-dataset.js';
export { decodePngImage, encodeGrayscalePng, type RgbImage, readPngImage } from './ocr/png-image.js';
export { evaluateRecognizer, ocrCerMetric, type RecognizerEvaluation } from './ocr/recognizer-evaluation.js';
export { PPOCR_V4_GEOMETRY, type RecognizerGeometry, recognizerInput, resizeBilinear } from './ocr/recognizer-input.js';
export { editDistance, scoreLines, type TextScore } from './ocr/text-metrics.js';
export { type CliIO, createProgram, runCli } from './program.js';
export { createProgress, type ProgressFactory, type ProgressOptions, type ProgressTask } from './progress.js';
