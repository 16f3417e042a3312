import type { FeedsLike } from 'quantsim';

/** The recognizer's input: one text line, 3 × 48 × 320. */
export const RECOGNIZER_INPUT_DIMS = [1, 3, 48, 320] as const;

/** A smooth pseudo text line in about [−1, 1], different for each `i` (deterministic). */
export function recognizerImage(i: number): Float32Array {
  const [, c, h, w] = RECOGNIZER_INPUT_DIMS;
  return pseudoImage(c, h, w, i);
}

/** A smooth deterministic pseudo-image of `c × h × w` in about [−1, 1], different for each `i`. */
export function pseudoImage(c: number, h: number, w: number, i: number): Float32Array {
  const out = new Float32Array(c * h * w);
  for (let k = 0; k < out.length; k++) {
    const x = k % w;
    const y = Math.floor(k / w) % h;
    const ch = Math.floor(k / (w * h));
    out[k] =
      Math.sin(x * (0.013 + (i % 7) * 0.004) + ch + i) * Math.cos(y * (0.021 + (i % 5) * 0.003) - i * 0.3) * 0.9 +
      Math.sin(k * 12.9898 + i) * 0.1;
  }
  return out;
}

/** `n` recognizer samples as feeds (input name `x`). */
export function recognizerSamples(n: number, first = 0): FeedsLike[] {
  return Array.from({ length: n }, (_, i) => ({
    x: { data: recognizerImage(first + i), dims: [...RECOGNIZER_INPUT_DIMS] },
  }));
}
