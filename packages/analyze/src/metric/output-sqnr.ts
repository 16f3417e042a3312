import type { TensorMap } from '@quantsim/core';

/**
 * Output SQNR in dB: 10·log10(Σ float² / Σ (float − quantized)²) over every float32 output of
 * every sample (`reference[i]` against `outputs[i]`); Infinity when the outputs are identical.
 */
export function outputSqnrDb(reference: readonly TensorMap[], outputs: readonly TensorMap[]): number {
  let signal = 0;
  let noise = 0;
  for (const [i, ref] of reference.entries()) {
    for (const [name, want] of Object.entries(ref)) {
      const x = want.data;
      const y = outputs[i]?.[name]?.data;
      if (!(x instanceof Float32Array) || !(y instanceof Float32Array)) continue;
      for (let k = 0; k < x.length; k++) {
        const v = x[k] as number;
        const d = v - (y[k] as number);
        signal += v * v;
        noise += d * d;
      }
    }
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}
