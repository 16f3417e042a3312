// The hard OCR dev set (data/ocr-hard, rendered by scripts/render-ocr-hard-lines.ts): its label
// format and loaders of recognizer and direction-classifier inputs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TensorData } from 'quantsim';
import { type RgbImage, readPngImage } from '../packages/data/src/image/png-image.js';
import { recognizerInput } from '../packages/data/src/ocr/recognizer-input.js';

/** The `format` tag of data/ocr-hard/labels.json. */
export const OCR_HARD_FORMAT = 'quantsim-ocr-hard/1';

/** calibration (~200 lines), dev (for choosing), test (held out, for reporting). */
export type OcrHardSplit = 'calibration' | 'dev' | 'test';

/** One line of the hard set. */
export interface OcrHardLabel {
  readonly file: string;
  readonly text: string;
  readonly split: OcrHardSplit;
  readonly kind: string;
  /** 0: upright; 180: drawn upside down (the direction classifier's two classes). */
  readonly angle: 0 | 180;
  /** The degradations applied, for the curious. */
  readonly degradation: string;
}

/** The whole labels.json. */
export interface OcrHardLabels {
  readonly format: typeof OCR_HARD_FORMAT;
  readonly description: string;
  readonly lines: readonly OcrHardLabel[];
}

/** A loaded line: recognizer input (upright), classifier input (as drawn), and its label. */
export interface OcrHardSample {
  readonly label: OcrHardLabel;
  readonly recognizer: TensorData;
  readonly classifier: TensorData;
}

/** data/ocr-hard at the repository root. */
export const OCR_HARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'ocr-hard');

/** Turns an image by 180 degrees (exact: the pixels in reverse order). */
export function rotate180(image: RgbImage): RgbImage {
  const n = image.width * image.height;
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[(n - 1 - i) * 3 + c] = image.data[i * 3 + c] as number;
  return { width: image.width, height: image.height, data };
}

/** The PaddleOCR direction classifier's input geometry (ch_ppocr_mobile_v2.0_cls: 3×48×192). */
export const CLASSIFIER_GEOMETRY = Object.freeze({ height: 48, width: 192 });

/** Loads one split of the hard set. */
export function loadOcrHard(split: OcrHardSplit, dir: string = OCR_HARD_DIR): OcrHardSample[] {
  const doc = JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8')) as OcrHardLabels;
  if (doc.format !== OCR_HARD_FORMAT)
    throw new Error(
      `${dir}/labels.json is not in format ${OCR_HARD_FORMAT}; re-render it with scripts/render-ocr-hard-lines.ts.`,
    );
  return doc.lines
    .filter((l) => l.split === split)
    .map((label) => {
      const image = readPngImage(path.join(dir, label.file));
      const upright = label.angle === 180 ? rotate180(image) : image;
      return { label, recognizer: recognizerInput([upright]), classifier: recognizerInput([image], CLASSIFIER_GEOMETRY) };
    });
}
