// Encodings file formats: AIMET encodings (0.6.1, 1.0.0, 2.0.0), ONNX QDQ parameters and
// onnxruntime TensorQuantOverrides. Pure functions; writing files is the caller's job.
export {
  AIMET_ENCODINGS_VERSIONS,
  type AimetEncodingsFile,
  type AimetEncodingsV061,
  type AimetEncodingsV100,
  type AimetEncodingsV200,
  type AimetEncodingsVersion,
  type AimetLegacyEncoding,
  type AimetLegacyFloatEncoding,
  type AimetLegacyIntEncoding,
  type AimetQuantizerArgs,
  type AimetV1Encoding,
  type AimetV1FloatEncoding,
  type AimetV1IntEncoding,
  type AimetV2Encoding,
} from '../contracts/aimet-format.js';
export { type OnnxQuantParams, offsetFromZeroPoint, onnxQuantParams, zeroPointFromOffset } from '../encode/onnx-quant-params.js';
export {
  EncodingsExportError,
  EncodingsFormatError,
  type EncodingsFormatProblem,
  EncodingsMismatchError,
} from '../errors/encodings-errors.js';
export {
  type Int32BiasLink,
  type Int32BiasResult,
  int32BiasEncoding,
  int32BiasLinks,
} from './aimet/int32-bias.js';
export { type ParsedEncoding, type ParsedEncodings, parseAimetEncodings } from './aimet/read.js';
export { type AimetEncodingsOptions, aimetQuantizerArgs, serializeAimetEncodings, toAimetEncodings } from './aimet/write.js';
export {
  type EncodingMismatch,
  type EncodingMismatchField,
  type MatchEncodingsOptions,
  type MatchedEncodings,
  matchEncodings,
} from './match-encodings.js';
export {
  type OrtQuantType,
  type OrtTensorQuantOverride,
  type OrtTensorQuantOverrides,
  toOrtTensorQuantOverrides,
} from './ort-overrides.js';
