/**
 * The `quantsim` command line: `runCli` and `createProgram`, the commands (`inspect`, `quantize`,
 * `analyze`, `sensitivity`, `amp`, `demo`) as functions with their option and outcome types, the `--config` file
 * format, progress output, and the bundled models the commands accept by name.
 *
 * The library parts it used to hold have their own packages: the sensitivity analysis and its
 * report are in `@quantsim/analyze` (also re-exported by `quantsim`); the `.npy`, calibration-file
 * and PNG readers and the OCR helpers are in `@quantsim/data`. Their names are still re-exported
 * here, deprecated, until the next major version.
 *
 * @packageDocumentation
 */

// Moved to @quantsim/analyze (issue 14); kept here so that existing imports keep working.
export {
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  analyzeSensitivity,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type Bar,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type BarChart,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  barChartSvg,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  escapeXml,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  exactNames,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  formatValue,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type ModelRunner,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  mostSensitiveUnits,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  outputSqnrMetric,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type QuantUnit,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  quantUnits,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  SENSITIVITY_ANALYSES,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type SensitivityAnalysis,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type SensitivityMetric,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type SensitivityOptions,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type SensitivityProgress,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type SensitivityReportContext,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type SensitivityResult,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  sensitivityReportHtml,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  sensitivityReportJson,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type TensorSqnr,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  top1AgreementMetric,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  type UnitSensitivity,
  /** @deprecated Moved to `@quantsim/analyze`: import it from there (or from `quantsim`). */
  withQuantizersDisabled,
} from '@quantsim/analyze';
// Moved to @quantsim/data (issue 14); kept here so that existing imports keep working.
export {
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  bundledOcrDictionaryPath,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  ctcGreedyDecode,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  decodeNpy,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  decodePngImage,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  defaultOcrLinesDir,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  editDistance,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  encodeGrayscalePng,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  encodeNpy,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  evaluateRecognizer,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  loadOcrDictionary,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  loadOcrLines,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type NpyArray,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type NpyHeader,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type NpySamples,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  OCR_LINES_FORMAT,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type OcrDictionary,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type OcrLineLabel,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type OcrLineSample,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type OcrLinesLabels,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type OcrLinesSplit,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  ocrCerMetric,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  openNpySamples,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  PPOCR_V4_GEOMETRY,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  parseNpyHeader,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type RecognizerEvaluation,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type RecognizerGeometry,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type RgbImage,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  readNpy,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  readNpyHeader,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  readOcrLinesLabels,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  readPngImage,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  recognizerInput,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  resizeBilinear,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  scoreLines,
  /** @deprecated Moved to `@quantsim/data`: import it from there. */
  type TextScore,
} from '@quantsim/data';
export { BUNDLED_MODELS, bundledAssetsDir, resolveModelArgument } from './bundled-models.js';
export { createCliQuant } from './cli-quant.js';
export {
  type AmpCommandOptions,
  type AmpOutcome,
  ampCommand,
  DEFAULT_AMP_CANDIDATES,
  parseCandidates,
} from './commands/amp.js';
export { type AnalyzeMetric, type AnalyzeOptions, type AnalyzeOutcome, analyzeCommand } from './commands/analyze.js';
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
export {
  parseAnalyses,
  type SensitivityCommandOptions,
  type SensitivityOutcome,
  sensitivityCommand,
} from './commands/sensitivity.js';
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
export { CliInputError } from './errors/cli-input-error.js';
export { displayPath, formatTable } from './format.js';
export { type CliIO, createProgram, runCli } from './program.js';
export { createProgress, type ProgressFactory, type ProgressOptions, type ProgressTask } from './progress.js';
