import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataInputError } from '../errors/data-input-error.js';
import { ocrModelsAssetsDir } from './ocr-assets.js';

/**
 * The classes of a PaddleOCR recognizer: class 0 is the CTC blank, class i is line i − 1 of the
 * dictionary file, and the last class is a space (PaddleOCR's `use_space_char`).
 */
export interface OcrDictionary {
  /** Every class in output order; index 0 is the blank (an empty string). */
  readonly classes: readonly string[];
  /** Whether a character can be recognized. */
  has(char: string): boolean;
}

/** The dictionary of the bundled PP-OCRv4 recognizer, `ppocr_keys_v1.txt` (6625 classes with blank and space). */
export function bundledOcrDictionaryPath(): string {
  return path.join(ocrModelsAssetsDir(), 'ppocr_keys_v1.txt');
}

/**
 * Reads a PaddleOCR character dictionary (one character per line).
 * @throws DataInputError when the file cannot be read.
 */
export function loadOcrDictionary(file: string = bundledOcrDictionaryPath()): OcrDictionary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataInputError(
      file,
      `cannot read the OCR dictionary (${(e as Error).message})`,
      'Give the ppocr_keys file of the recognizer.',
    );
  }
  const lines = text.split(/\r?\n/);
  // A trailing newline leaves one empty line that is not a character.
  if (lines[lines.length - 1] === '') lines.pop();
  const classes = ['', ...lines, ' '];
  const known = new Set(classes.slice(1));
  return { classes, has: (char) => known.has(char) };
}
