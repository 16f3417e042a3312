/**
 * Data readers and the OCR example's helpers: numpy `.npy` files (and calibration or evaluation
 * samples read from them, checked against a model's inputs), PNG images, and for the PaddleOCR
 * recognizer: its dictionary, input preprocessing, CTC greedy decoding, the shipped OCR lines
 * dataset, and scoring by line accuracy and character error rate (CER), also as a sensitivity
 * metric for `@quantsim/analyze`.
 *
 * Folders: `npy/` (the format and calibration files), `image/` (PNG), `ocr/` (the recognizer
 * helpers). Bad files throw {@link DataInputError}, naming the file and the fix.
 *
 * @packageDocumentation
 */
export { DataInputError } from './errors/data-input-error.js';
export { decodePngImage, encodeGrayscalePng, type RgbImage, readPngImage } from './image/png-image.js';
export { type NpySamples, openNpySamples } from './npy/calibration-files.js';
export {
  decodeNpy,
  encodeNpy,
  type NpyArray,
  type NpyHeader,
  parseNpyHeader,
  readNpy,
  readNpyHeader,
} from './npy/npy-format.js';
export { ctcGreedyDecode } from './ocr/ctc-decode.js';
export { ocrModelsAssetsDir } from './ocr/ocr-assets.js';
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
export {
  evaluateRecognizer,
  type OcrCerSampleMetric,
  ocrCerMetric,
  ocrCerSampleMetric,
  type RecognizerEvaluation,
} from './ocr/recognizer-evaluation.js';
export { PPOCR_V4_GEOMETRY, type RecognizerGeometry, recognizerInput, resizeBilinear } from './ocr/recognizer-input.js';
export { editDistance, scoreLines, type TextScore } from './ocr/text-metrics.js';
