import { readFileSync } from 'node:fs';
import { convertIndexedToRgb, type DecodedPng, decode, encode } from 'fast-png';
import { DataInputError } from '../errors/data-input-error.js';

/** An image as 8-bit-range RGB values, row-major, 3 values per pixel. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** R, G, B per pixel, 0–255, alpha already composited over white. */
  readonly data: Float32Array;
}

/**
 * Decodes a PNG (grey, grey+alpha, RGB, RGBA or palette; 1 to 16 bits) into {@link RgbImage}.
 * `source` names the file in errors.
 * @throws DataInputError when the bytes are not a PNG.
 */
export function decodePngImage(bytes: Uint8Array, source: string): RgbImage {
  let png: DecodedPng;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new DataInputError(source, `is not a readable PNG image (${(e as Error).message})`, 'Give a PNG file.');
  }
  const { width, height } = png;
  let channels = png.channels;
  let samples: ArrayLike<number> = png.data;
  let max = (1 << png.depth) - 1;
  if (png.palette) {
    samples = convertIndexedToRgb(png);
    channels = png.transparency ? 4 : 3;
    max = 255;
  } else if (png.depth < 8) {
    samples = unpackBits(png.data, width, height, channels, png.depth);
  }
  const out = new Float32Array(width * height * 3);
  const scale = 255 / max;
  for (let p = 0; p < width * height; p++) {
    const base = p * channels;
    const grey = channels <= 2;
    const r = (samples[base] as number) * scale;
    const g = grey ? r : (samples[base + 1] as number) * scale;
    const b = grey ? r : (samples[base + 2] as number) * scale;
    const hasAlpha = channels === 2 || channels === 4;
    // Text crops with transparency read as dark text on white paper.
    const a = hasAlpha ? (samples[base + channels - 1] as number) / max : 1;
    out[p * 3] = r * a + 255 * (1 - a);
    out[p * 3 + 1] = g * a + 255 * (1 - a);
    out[p * 3 + 2] = b * a + 255 * (1 - a);
  }
  return { width, height, data: out };
}

/** Reads and decodes a PNG file. @throws DataInputError naming the file when it is missing or not a PNG. */
export function readPngImage(file: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataInputError(
      file,
      `cannot read the image (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      'Check the path.',
    );
  }
  return decodePngImage(bytes, file);
}

/** Rows of sub-byte samples are padded to whole bytes; this spreads them to one value each. */
function unpackBits(data: ArrayLike<number>, width: number, height: number, channels: number, depth: number): Uint8Array {
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const mask = (1 << depth) - 1;
  const out = new Uint8Array(perRow * height);
  for (let y = 0; y < height; y++)
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      const byte = data[y * rowBytes + (bit >> 3)] as number;
      out[y * perRow + i] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  return out;
}

/**
 * Encodes an image as an 8-bit grayscale PNG (ITU-R BT.601 luma): a third of the bytes of RGB,
 * and all that a text recognizer needs. Used to store the rendered demo dataset.
 */
export function encodeGrayscalePng(image: RgbImage): Uint8Array {
  const { width, height, data } = image;
  const grey = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++)
    grey[p] = Math.round(
      0.299 * (data[p * 3] as number) + 0.587 * (data[p * 3 + 1] as number) + 0.114 * (data[p * 3 + 2] as number),
    );
  return encode({ width, height, data: grey, channels: 1, depth: 8 });
}
