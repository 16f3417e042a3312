import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TensorData } from '@quantsim/core';
import { DataInputError } from '../errors/data-input-error.js';
import { readPngImage } from '../image/png-image.js';
import { PPOCR_V4_GEOMETRY, type RecognizerGeometry, recognizerInput } from './recognizer-input.js';

/** The `format` tag of `labels.json`, checked on load. */
export const OCR_LINES_FORMAT = 'quantsim-ocr-lines/1';

/** The two splits of the dataset. */
export type OcrLinesSplit = 'calibration' | 'evaluation';

/** One line of `labels.json`. */
export interface OcrLineLabel {
  /** The PNG, relative to the dataset folder. */
  readonly file: string;
  /** The text drawn in it. */
  readonly text: string;
  readonly split: OcrLinesSplit;
  /** `chinese`, `mixed`, `digits` or `latin`. */
  readonly kind: string;
  /** The font it was drawn in, for the curious. */
  readonly font: string;
}

/** The whole of `labels.json`. */
export interface OcrLinesLabels {
  readonly format: typeof OCR_LINES_FORMAT;
  readonly description: string;
  readonly lines: readonly OcrLineLabel[];
}

/** A loaded line: its label and the recognizer input for it alone (`[1, 3, 48, 320]`). */
export interface OcrLineSample {
  readonly label: OcrLineLabel;
  readonly input: TensorData;
}

/**
 * The shipped demo dataset, `data/ocr-lines/` at the root of the quantsim repository (found from
 * this file, in sources and in `dist` alike).
 */
export function defaultOcrLinesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', '..', '..', 'data', 'ocr-lines');
}

/**
 * Reads `labels.json` of an OCR lines folder.
 * @throws DataInputError naming the folder when it has no labels or they are not of this format.
 */
export function readOcrLinesLabels(dir: string = defaultOcrLinesDir()): OcrLinesLabels {
  const file = path.join(dir, 'labels.json');
  if (!existsSync(file))
    throw new DataInputError(
      dir,
      'has no labels.json, so it is not an OCR lines dataset',
      'Use data/ocr-lines of the quantsim repository, or pass --data <folder>.',
    );
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataInputError(
      file,
      `is not valid JSON (${(e as Error).message})`,
      'Re-render it with scripts/render-ocr-lines.ts.',
    );
  }
  const d = doc as Partial<OcrLinesLabels>;
  if (d.format !== OCR_LINES_FORMAT || !Array.isArray(d.lines))
    throw new DataInputError(file, `is not in format ${OCR_LINES_FORMAT}`, 'Re-render it with scripts/render-ocr-lines.ts.');
  return d as OcrLinesLabels;
}

/**
 * Loads one split as recognizer inputs, one sample per line. `limit` keeps the first lines only.
 * @throws DataInputError naming the image that is missing or unreadable.
 */
export function loadOcrLines(
  split: OcrLinesSplit,
  options: { dir?: string; limit?: number; geometry?: RecognizerGeometry } = {},
): OcrLineSample[] {
  const dir = options.dir ?? defaultOcrLinesDir();
  const lines = readOcrLinesLabels(dir).lines.filter((l) => l.split === split);
  return lines.slice(0, options.limit ?? lines.length).map((label) => ({
    label,
    input: recognizerInput([readPngImage(path.join(dir, label.file))], options.geometry ?? PPOCR_V4_GEOMETRY),
  }));
}
