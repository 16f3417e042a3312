/**
 * The IEEE 754 half-precision bit pattern nearest to a number (round half to even, as a
 * float32 → float16 cast does). Values beyond the float16 range become ±infinity; NaN stays NaN.
 */
export function floatToHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  // 65520 is halfway between the largest half (65504) and the next step: it and above overflow.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -25) return sign; // below half the smallest subnormal: rounds to zero
  let e = Math.max(Math.floor(Math.log2(a)), -14);
  // Math.log2 can miss by one next to powers of two; the mantissa check below settles it.
  if (e > -14 && a < 2 ** e) e -= 1;
  else if (a >= 2 ** (e + 1)) e += 1;
  // Subnormals (e = −14, a < 2^−14) share the step of the smallest normal exponent.
  const step = 2 ** (e - 10);
  const q = a / step;
  let m = Math.round(q);
  if (Math.abs(q - Math.trunc(q)) === 0.5 && m % 2 !== 0) m -= 1;
  // m counts steps of 2^(e−10): 1024 … 2048 for normals, below 1024 for subnormals.
  if (a < 2 ** -14) return sign | m; // subnormal (m = 1024 rounds up into the first normal, which has the same bits)
  let exp = e + 15;
  if (m === 2048) {
    m = 1024;
    exp += 1;
  }
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | (m - 1024);
}

/** Encodes numbers as little-endian float16 bytes (for `raw_data`). */
export function float16ToBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, floatToHalfBits(values[i] as number), true);
  return out;
}
