/**
 * A custom encoding scheme: min-max ranges widened so that the scale is a power of two, which
 * fixed-point DSPs can apply with a shift instead of a multiply.
 *
 * Run: `pnpm exec tsx --conditions=@quantsim/source examples/custom-scheme/power-of-two-scheme.ts`
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { type ChannelEncoding, computeGrid, type EncodingScheme, type GridSpec, quant, type TensorStats } from 'quantsim';
import { buildDetectorHead, detectorImages } from '../detector-head/detector-head-model.js';

/**
 * `pow2-minmax`: takes the observed range, computes AIMET's grid for it, then raises the scale to
 * the next power of two and re-centres the grid (symmetric grids keep their offset; asymmetric
 * ones keep zero exactly representable).
 */
export const powerOfTwoScheme: EncodingScheme = {
  name: 'pow2-minmax',
  statistics: 'minmax',
  description: 'Min-max ranges with power-of-two scales, for shift-based fixed-point hardware.',
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const lo = stats.count > 0 ? stats.min : 0;
    const hi = stats.count > 0 ? stats.max : 0;
    const grid = computeGrid(lo, hi, spec);
    const scale = 2 ** Math.ceil(Math.log2(grid.scale));
    const steps = (grid.max - grid.min) / grid.scale;
    const offset = spec.symmetric ? grid.offset : Math.max(-steps, Math.min(0, Math.round(lo / scale)));
    return { min: offset * scale, max: (offset + steps) * scale, scale, offset };
  },
};

/** Calibrates the detector head with the custom scheme on weights and activations. */
export async function calibrateWithPowerOfTwo() {
  return quant(buildDetectorHead())
    .use({ name: 'pow2', schemes: [powerOfTwoScheme] })
    .scheme('pow2-minmax')
    .calibrate(detectorImages(8));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sim = await calibrateWithPowerOfTwo();
  for (const [id, enc] of sim.encodings)
    console.log(id.padEnd(34), enc.channels.map((c) => `scale 2^${Math.log2(c.scale)} offset ${c.offset}`).join('; '));
  await sim.release();
}
