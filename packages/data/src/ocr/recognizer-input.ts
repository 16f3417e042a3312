import type { TensorData } from '@quantsim/core';
import type { RgbImage } from '../image/png-image.js';

/** The input geometry of a PaddleOCR recognizer. */
export interface RecognizerGeometry {
  /** Image height the model was trained on (48 for PP-OCRv3/v4). */
  readonly height: number;
  /** Fixed padded width of a batch (320 in PaddleOCR's own inference). */
  readonly width: number;
}

/** PP-OCRv4's recognizer geometry. */
export const PPOCR_V4_GEOMETRY: RecognizerGeometry = Object.freeze({ height: 48, width: 320 });

/**
 * Turns images into the recognizer's input `x: float32 [N, 3, height, width]` as PaddleOCR's
 * `resize_norm_img` does: resize to the model height keeping the aspect ratio (bilinear, width
 * capped at `width`), normalise each channel to (v / 255 − 0.5) / 0.5, and pad on the right
 * with zeros (mid-grey once normalised).
 */
export function recognizerInput(images: readonly RgbImage[], geometry: RecognizerGeometry = PPOCR_V4_GEOMETRY): TensorData {
  const { height: h, width: w } = geometry;
  const plane = h * w;
  const data = new Float32Array(images.length * 3 * plane);
  images.forEach((image, n) => {
    const resizedWidth = Math.max(1, Math.min(w, Math.ceil((h * image.width) / image.height)));
    const resized = resizeBilinear(image, resizedWidth, h);
    const base = n * 3 * plane;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < resizedWidth; x++)
        for (let c = 0; c < 3; c++)
          data[base + c * plane + y * w + x] = ((resized[(y * resizedWidth + x) * 3 + c] as number) / 255 - 0.5) / 0.5;
  });
  return { type: 'float32', data, dims: [images.length, 3, h, w] };
}

/** Bilinear resize with half-pixel centres (OpenCV's INTER_LINEAR, which PaddleOCR uses). */
export function resizeBilinear(image: RgbImage, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => image.data[(yy * image.width + xx) * 3 + c] as number;
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        out[(y * width + x) * 3 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}
