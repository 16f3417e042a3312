/**
 * Rounds to the nearest integer, halfway cases to the even one: IEEE 754's default and what ONNX
 * `QuantizeLinear` specifies ("round to nearest, ties to even"), so simulated values match what an
 * ONNX runtime computes from the exported Q/DQ graph. (JavaScript's `Math.round` rounds halfway
 * cases up, which is neither this nor AIMET's rule.)
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round resolved a tie upwards; step back down when that landed on an odd integer.
  const result = r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return result + 0;
}

/**
 * Rounds to the nearest integer, halfway cases away from zero: C's `round`, which AIMET's C++
 * (libpymo) uses for offsets and in its quantize-dequantize kernels.
 */
export function roundHalfAway(x: number): number {
  const r = Math.round(Math.abs(x));
  return x < 0 ? -r + 0 : r;
}
