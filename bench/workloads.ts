import type { FeedsLike } from 'quantsim';
import { REAL_MODELS } from '../test-support/models.js';

/** A model and a deterministic stream of inputs for it. */
export interface Workload {
  readonly name: string;
  readonly model: string;
  /** Makes sample `i`; samples are generated on the fly so that the data itself takes no memory. */
  readonly sample: (i: number) => FeedsLike;
}

/**
 * Smooth, sample-dependent pseudo-images in [-1, 1] (the models' normalised input range).
 * bench/peer.py computes the same formula for the peer.
 */
export function image(channels: number, height: number, width: number, i: number): Float32Array {
  const out = new Float32Array(channels * height * width);
  const fx = 0.013 + (i % 7) * 0.004;
  const fy = 0.021 + (i % 5) * 0.003;
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const k = (c * height + y) * width + x;
        out[k] = Math.sin(x * fx + c + i) * Math.cos(y * fy - i * 0.3) * 0.9 + Math.sin(k * 12.9898 + i) * 0.1;
      }
  return out;
}

/** The PaddleOCR classifier at 48×192, the recognizer at 48×320 and the detector at 640×640, as in the issue. */
export const WORKLOADS: Readonly<Record<string, Workload>> = {
  classifier: {
    name: 'PaddleOCR v2 classifier 48×192',
    model: REAL_MODELS.ocrClassifier,
    sample: (i) => ({ x: { data: image(3, 48, 192, i), dims: [1, 3, 48, 192] } }),
  },
  detector: {
    name: 'PaddleOCR v4 detector 640×640',
    model: REAL_MODELS.ocrDetector,
    sample: (i) => ({ x: { data: image(3, 640, 640, i), dims: [1, 3, 640, 640] } }),
  },
  recognizer: {
    name: 'PaddleOCR v4 recognizer 48×320',
    model: REAL_MODELS.ocrRecognizer,
    sample: (i) => ({ x: { data: image(3, 48, 320, i), dims: [1, 3, 48, 320] } }),
  },
};

/** A generator of `count` samples. */
export function* samples(workload: Workload, count: number): Generator<FeedsLike> {
  for (let i = 0; i < count; i++) yield workload.sample(i);
}
