/*
 * The encoding grid, as AIMET computes it. Checked against AIMET's C++ (libpymo), which
 * aimet_onnx uses, in ModelOptimizations/DlQuantization/src/:
 *  - TfEncodingAnalyzer.{h,cpp} (computeEncoding): the range is widened to include 0, then
 *    `newMax = max(newMax, newMin + MIN_RANGE)` with MIN_RANGE = 0.01.
 *  - quantization_utils.cpp (getComputedEncodings, AIMET 2.x):
 *      numSteps = 2^bw - 1, less 1 when symmetric and strict;
 *      min, max clamped to [0.99 * float32 lowest, 0] and [0, 0.99 * float32 max];
 *      unsigned symmetric only applies when min >= 0;
 *      symmetric signed: numPos = floor(numSteps / 2), numNeg = numSteps - numPos
 *        (numPos = numNeg when numSteps == 3), delta = max(max / numPos, -min / numNeg),
 *        offset = -numNeg;
 *      otherwise: delta = (max - min) / numSteps, offset = clamp(round(min / delta), -numSteps, 0)
 *        with C's round (halfway cases away from zero);
 *      delta is then capped so that the grid stays inside the float32 range;
 *      min = delta * offset, max = delta * (offset + numSteps).
 *  aimet_torch v2 (quantization/encoding_analyzer.py, adjust_min_max) has the same symmetric
 *  formula with floor/ceil of numSteps / 2; older AIMET (1.x) used max(|min|, |max|) / floor(N/2).
 *  aimet_torch v2 replaces MIN_RANGE with a minimum scale (~1.19e-7); quantsim keeps the libpymo rule.
 */
import type { ChannelEncoding } from '../contracts/encoding.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import type { GridSpec } from '../plan/spec.js';
import { roundHalfAway } from './rounding.js';

/** The fields of a {@link GridSpec} that fix the integer grid (everything but the scheme's options). */
export type GridShape = Pick<GridSpec, 'bitwidth' | 'dtype' | 'symmetric' | 'strictSymmetric' | 'unsignedSymmetric'>;

/** The narrowest range an encoding covers: AIMET's `MIN_RANGE`. */
export const MIN_ENCODING_RANGE = 0.01;

/** Widest integer grid: 32 bits (AIMET quantizes biases to int32). */
const MAX_GRID_BITWIDTH = 32;

// AIMET keeps grids inside 0.99 of the float32 range, so that dequantized values never overflow.
const FLOAT32_LIMIT = 3.4028234663852886e38 * 0.99;

/**
 * Checks that a grid shape describes an integer grid quantsim can compute; returns it.
 *
 * @internal
 */
export function checkGridShape(spec: GridShape, where: string): GridShape {
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidArgumentError(`${where}: the grid spec must be an object, received ${describeValue(spec)}.`);
  }
  if (spec.dtype !== 'int') {
    throw new InvalidArgumentError(`${where}: only integer grids have encodings, received dtype ${describeValue(spec.dtype)}.`, {
      hint: 'Float (fp16) quantizers need no grid; build their Encoding with assembleEncoding(spec, []).',
    });
  }
  const b = spec.bitwidth;
  if (!Number.isInteger(b) || b < 1 || b > MAX_GRID_BITWIDTH) {
    throw new InvalidArgumentError(
      `${where}: bitwidth must be an integer from 1 to ${MAX_GRID_BITWIDTH}, received ${describeValue(b)}.`,
    );
  }
  if (spec.symmetric && b < 2) {
    throw new InvalidArgumentError(`${where}: a symmetric grid needs at least 2 bits, received ${b}.`, {
      hint: 'Use an asymmetric grid for 1-bit quantization.',
    });
  }
  return spec;
}

/**
 * The number of steps of the grid, N: 2^bitwidth - 1, less one for strict symmetric grids, so that
 * an encoding covers `offset * scale` to `(offset + N) * scale`.
 */
export function gridSteps(
  spec: Pick<GridShape, 'bitwidth' | 'dtype' | 'symmetric'> & { readonly strictSymmetric?: boolean | undefined },
): number {
  checkGridShape(spec as GridShape, 'gridSteps');
  const n = 2 ** spec.bitwidth - 1;
  return spec.symmetric && spec.strictSymmetric ? n - 1 : n;
}

function clampFloat32(x: number): number {
  return Math.min(FLOAT32_LIMIT, Math.max(-FLOAT32_LIMIT, x));
}

/**
 * The grid that covers [min, max] as AIMET computes it (see the file comment for the sources).
 *
 * The range is first widened to include 0 (0 must be exactly representable) and to at least
 * {@link MIN_ENCODING_RANGE}. Then, with N = {@link gridSteps}:
 * - asymmetric, and unsigned symmetric when min >= 0: Δ = (max - min) / N,
 *   offset = round(min / Δ) (halfway away from zero) clamped to [-N, 0];
 * - symmetric: Δ = max(max / floor(N/2), -min / ceil(N/2)), offset = -ceil(N/2)
 *   (-128 at 8 bits, -127 when strict; at N = 3 both sides get 2 steps, as in AIMET);
 * and the grid runs from Δ·offset to Δ·(offset + N).
 *
 * @param min - smallest value to cover (±Infinity is clamped to the float32 range).
 * @param max - largest value to cover.
 * @param spec - bitwidth and symmetry; a full {@link GridSpec} will do.
 */
export function computeGrid(min: number, max: number, spec: GridShape): ChannelEncoding {
  checkGridShape(spec, 'computeGrid');
  if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max)) {
    throw new InvalidArgumentError(
      `computeGrid: min and max must be numbers, received ${describeValue(min)} and ${describeValue(max)}.`,
      {
        hint: 'Statistics of NaN-only data have no range; skip such tensors or report them.',
      },
    );
  }
  const n = gridSteps(spec);
  let lo = Math.min(clampFloat32(min), 0);
  let hi = Math.max(clampFloat32(max), 0);
  if (hi - lo < MIN_ENCODING_RANGE) hi = lo + MIN_ENCODING_RANGE;
  lo += 0;
  const unsigned = spec.symmetric && spec.unsignedSymmetric && lo >= 0;
  let delta: number;
  let offset: number;
  if (spec.symmetric && !unsigned) {
    let numPos = Math.floor(n / 2);
    const numNeg = n - numPos;
    // AIMET: with 3 steps, floor would waste a negative step on symmetric data; trade it for clipping.
    if (n === 3) numPos = numNeg;
    delta = Math.max(hi / numPos, -lo / numNeg);
    offset = -numNeg;
  } else {
    delta = (hi - lo) / n;
    offset = Math.min(0, Math.max(-n, roundHalfAway(lo / delta))) + 0;
  }
  if (offset < 0) delta = Math.min(delta, -FLOAT32_LIMIT / offset);
  if (offset + n > 0) delta = Math.min(delta, FLOAT32_LIMIT / (offset + n));
  hi = delta * (offset + n);
  return { min: delta * offset + 0, max: hi, scale: delta, offset };
}
