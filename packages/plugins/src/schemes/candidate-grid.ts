import { type ChannelEncoding, computeGrid, type GridShape, gridSteps, MIN_ENCODING_RANGE, roundHalfAway } from '@quantsim/core';

// As in core's grid.ts: grids stay inside 0.99 of the float32 range.
const FLOAT32_LIMIT = 3.4028234663852886e38 * 0.99;

/**
 * `computeGrid` for one grid shape, for searches that make thousands of grids: the same arithmetic,
 * with the shape checked once here instead of on every call (the checks were a third of the MSE
 * search). The candidates' ranges must be numbers (not NaN). test/scheme-search-equivalence.test.ts
 * holds the result to core's `computeGrid`, bit for bit.
 */
export function gridMaker(spec: GridShape): (min: number, max: number) => ChannelEncoding {
  computeGrid(0, 0, spec);
  const n = gridSteps(spec);
  const symmetric = spec.symmetric;
  const unsignedSymmetric = spec.symmetric && spec.unsignedSymmetric;
  let numPos = Math.floor(n / 2);
  const numNeg = n - numPos;
  // AIMET: with 3 steps, floor would waste a negative step on symmetric data; trade it for clipping.
  if (n === 3) numPos = numNeg;
  return (min, max) => {
    let lo = Math.min(Math.min(FLOAT32_LIMIT, Math.max(-FLOAT32_LIMIT, min)), 0);
    let hi = Math.max(Math.min(FLOAT32_LIMIT, Math.max(-FLOAT32_LIMIT, max)), 0);
    if (hi - lo < MIN_ENCODING_RANGE) hi = lo + MIN_ENCODING_RANGE;
    lo += 0;
    let delta: number;
    let offset: number;
    if (symmetric && !(unsignedSymmetric && lo >= 0)) {
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
  };
}
