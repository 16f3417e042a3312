// What the searches' lower bounds need to be trusted in floating point.

/** Relative margin on bounds summed in another order than the cost: far above 65536 · 2^-52. */
export const BOUND_MARGIN = 1 - 1e-9;

/**
 * The limit the bounds are compared with: `limit`, or +∞ (no bounds) when it is so small that the
 * sums could be subnormal, where the relative margin does not hold (the costs are still exact).
 */
export function boundLimit(limit: number): number {
  return limit > 1e-280 ? limit : Number.POSITIVE_INFINITY;
}
