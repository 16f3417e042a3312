import type { AimetV1Encoding } from '../../contracts/aimet-format.js';
import type { Encoding } from '../../contracts/encoding.js';
import { at, channelOf, type Json, kindOf, type Reader, symmetryFlags } from './reader.js';

/* AIMET encodings 1.0.0: lists of entries with `enc_type`. Reading and writing one entry. */

/** A 1.0.0 entry: `{name, dtype, enc_type, bw, is_sym, scale[], offset[]}`. */
export function readV1Entry(reader: Reader, item: Json, path: string): { encoding: Encoding; perChannel: boolean } | undefined {
  const dtype = typeof item.dtype === 'string' ? item.dtype.toUpperCase() : item.dtype;
  if (dtype !== 'INT' && dtype !== 'FLOAT')
    return reader.problem(at(path, 'dtype'), `expected "INT" or "FLOAT", got ${kindOf(item.dtype)}`);
  const encType = item.enc_type;
  if (encType === 'PER_BLOCK' || encType === 'LPBQ' || encType === 'VECTOR') {
    return reader.problem(
      at(path, 'enc_type'),
      `${encType} encodings are not supported by quantsim; it reads PER_TENSOR and PER_CHANNEL`,
    );
  }
  if (encType !== 'PER_TENSOR' && encType !== 'PER_CHANNEL' && !(dtype === 'FLOAT' && encType === undefined)) {
    return reader.problem(at(path, 'enc_type'), `expected "PER_TENSOR" or "PER_CHANNEL", got ${kindOf(encType)}`);
  }
  const bitwidth = reader.bitwidth(item.bw, at(path, 'bw'));
  if (bitwidth === undefined) return undefined;
  if (dtype === 'FLOAT') {
    if (encType === 'PER_CHANNEL') return reader.problem(at(path, 'enc_type'), 'a FLOAT encoding is PER_TENSOR');
    return { encoding: { dtype: 'float', bitwidth, symmetric: false, channels: [] }, perChannel: false };
  }
  const before = reader.problems.length;
  const symmetric = reader.symmetric(item.is_sym, at(path, 'is_sym'));
  const shift = item.zero_point_shift;
  if (shift !== undefined && !(Array.isArray(shift) && shift.every((s) => s === 0)) && shift !== 0) {
    reader.problem(at(path, 'zero_point_shift'), 'fractional zero points (zero_point_shift) are not supported by quantsim');
  }
  const scales = item.scale;
  const offsets = item.offset;
  if (!Array.isArray(scales) || scales.length === 0)
    reader.problem(at(path, 'scale'), `expected a non-empty list of scales, got ${kindOf(scales)}`);
  if (!Array.isArray(offsets)) reader.problem(at(path, 'offset'), `expected a list of offsets, got ${kindOf(offsets)}`);
  if (reader.problems.length > before || symmetric === undefined || !Array.isArray(scales) || !Array.isArray(offsets))
    return undefined;
  if (offsets.length !== scales.length) {
    return reader.problem(at(path, 'offset'), `has ${offsets.length} offsets for ${scales.length} scales`);
  }
  if (encType === 'PER_TENSOR' && scales.length !== 1) {
    return reader.problem(at(path, 'scale'), `a PER_TENSOR encoding has one scale, got ${scales.length}`);
  }
  const pairs = scales.map((s: unknown, i) => [
    reader.scale(s, at(at(path, 'scale'), i)),
    reader.offset(offsets[i], at(at(path, 'offset'), i), bitwidth),
  ]);
  if (reader.problems.length > before) return undefined;
  const flags = symmetryFlags(
    symmetric,
    bitwidth,
    pairs.map(([, o]) => o ?? 0),
  );
  const channels = pairs.map(([s, o]) => channelOf(s ?? 1, o ?? 0, bitwidth, flags.strictSymmetric === true));
  return { encoding: { dtype: 'int', bitwidth, symmetric, ...flags, channels }, perChannel: encType === 'PER_CHANNEL' };
}
/** A 1.0.0 entry. */
export function writeV1Entry(name: string, e: Encoding): AimetV1Encoding {
  if (e.dtype === 'float') return { bw: e.bitwidth, dtype: 'FLOAT', enc_type: 'PER_TENSOR', name };
  return {
    bw: e.bitwidth,
    dtype: 'INT',
    enc_type: e.axis === undefined ? 'PER_TENSOR' : 'PER_CHANNEL',
    is_sym: e.symmetric,
    name,
    offset: e.channels.map((c) => c.offset),
    scale: e.channels.map((c) => c.scale),
  };
}
