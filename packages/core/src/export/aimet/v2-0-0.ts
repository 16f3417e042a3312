import type { AimetV2Encoding } from '../../contracts/aimet-format.js';
import type { Encoding } from '../../contracts/encoding.js';
import { integerRange, offsetFromZeroPoint, zeroPointFromOffset } from '../../encode/onnx-quant-params.js';
import { at, channelOf, type Json, kindOf, type Reader, symmetryFlags } from './reader.js';

/* AIMET encodings 2.0.0: one list of entries with ONNX-style zero points and an `axis`. Reading and writing one entry. */

/** A 2.0.0 entry: `{name, output_dtype, y_scale, y_zero_point?, axis?}` in ONNX's terms. */
export function readV2Entry(reader: Reader, item: Json, path: string): { encoding: Encoding; perChannel: boolean } | undefined {
  if ('per_block_int_scale' in item)
    return reader.problem(path, 'LPBQ encodings (per_block_int_scale) are not supported by quantsim');
  if ('block_size' in item) return reader.problem(at(path, 'block_size'), 'block encodings are not supported by quantsim');
  const dtype = item.output_dtype;
  const match = typeof dtype === 'string' ? /^(u?)int(\d+)$/.exec(dtype) : null;
  if (!match) {
    const what =
      typeof dtype === 'string'
        ? `float encodings ("${dtype}") are not supported in 2.0.0 files by quantsim`
        : `expected an integer type such as "int8" or "uint8", got ${kindOf(dtype)}`;
    return reader.problem(at(path, 'output_dtype'), what);
  }
  const signed = match[1] === '';
  const bitwidth = reader.bitwidth(Number(match[2]), at(path, 'output_dtype'));
  if (bitwidth === undefined) return undefined;
  const before = reader.problems.length;
  const axis = item.axis;
  if (axis !== undefined && !(typeof axis === 'number' && Number.isInteger(axis))) {
    reader.problem(at(path, 'axis'), `expected an integer axis, got ${kindOf(axis)}`);
  }
  const yScale = item.y_scale;
  const scaleList = Array.isArray(yScale) ? yScale : [yScale];
  if (Array.isArray(yScale)) {
    if (yScale.length === 0) reader.problem(at(path, 'y_scale'), 'expected a non-empty list of scales');
    if (yScale.some(Array.isArray))
      reader.problem(at(path, 'y_scale'), 'nested scale lists (block encodings) are not supported by quantsim');
    if (axis === undefined) reader.problem(at(path, 'axis'), `a list of ${yScale.length} scales needs an axis`);
  }
  const zp = item.y_zero_point;
  let zpList: readonly unknown[];
  if (zp === undefined) zpList = scaleList.map(() => 0);
  else if (Array.isArray(zp)) zpList = zp;
  else zpList = scaleList.map(() => zp);
  if (zpList.length !== scaleList.length) {
    reader.problem(at(path, 'y_zero_point'), `has ${zpList.length} zero points for ${scaleList.length} scales`);
  }
  if (reader.problems.length > before) return undefined;
  const { qmin, qmax } = integerRange(bitwidth, signed);
  const pairs = scaleList.map((s: unknown, i) => {
    const scale = reader.scale(s, Array.isArray(yScale) ? at(at(path, 'y_scale'), i) : at(path, 'y_scale'));
    const z = zpList[i];
    const zpPath = Array.isArray(zp) ? at(at(path, 'y_zero_point'), i) : at(path, 'y_zero_point');
    if (!(typeof z === 'number' && Number.isInteger(z) && z >= qmin && z <= qmax)) {
      return [
        scale,
        reader.problem(zpPath, `expected a zero point (an integer from ${qmin} to ${qmax} for ${dtype}), got ${kindOf(z)}`),
      ];
    }
    return [scale, z];
  });
  if (reader.problems.length > before) return undefined;
  const zeroPoints = pairs.map(([, z]) => z ?? 0);
  // Signed types hold symmetric grids (zero point 0, −1 when strict, −2^(b−1) when unsigned symmetric).
  const symmetricZps = new Set([0, -1, -(2 ** (bitwidth - 1))]);
  const symmetric = signed && zeroPoints.every((z) => symmetricZps.has(z));
  const offsets = zeroPoints.map((z) => offsetFromZeroPoint(z, bitwidth, signed));
  const flags = symmetryFlags(symmetric, bitwidth, offsets);
  const channels = pairs.map(([s], i) => channelOf(s ?? 1, offsets[i] ?? 0, bitwidth, flags.strictSymmetric === true));
  const encoding: Encoding = {
    dtype: 'int',
    bitwidth,
    symmetric,
    ...flags,
    ...(typeof axis === 'number' ? { axis } : {}),
    channels,
  };
  return { encoding, perChannel: axis !== undefined };
}
/** A 2.0.0 entry; `undefined` for float encodings, which AIMET leaves out of 2.0.0 files. */
export function writeV2Entry(name: string, e: Encoding): AimetV2Encoding | undefined {
  if (e.dtype === 'float') return undefined;
  const signed = e.symmetric;
  const zeroPoints = e.channels.map((c) => zeroPointFromOffset(c.offset, e.bitwidth, signed));
  const scales = e.channels.map((c) => c.scale);
  const perTensor = e.axis === undefined;
  const allZero = zeroPoints.every((z) => z === 0);
  return {
    ...(perTensor ? {} : { axis: e.axis }),
    name,
    output_dtype: `${signed ? 'int' : 'uint'}${e.bitwidth}`,
    y_scale: perTensor ? (scales[0] ?? 0) : scales,
    ...(allZero ? {} : { y_zero_point: perTensor ? (zeroPoints[0] ?? 0) : zeroPoints }),
  };
}
