import type { AimetLegacyEncoding } from '../../contracts/aimet-format.js';
import type { Encoding } from '../../contracts/encoding.js';
import { at, channelOf, isRecord, kindOf, type Reader, symmetryFlags } from './reader.js';

/* AIMET encodings 0.6.1 (and 0.4.0, 0.5.0): dictionaries of per-channel lists. Reading and writing one entry. */

/** A 0.6.1 entry: a list with one item per channel (float encodings: one item). */
export function readLegacyEntry(
  reader: Reader,
  list: unknown,
  path: string,
): { encoding: Encoding; perChannel: boolean | undefined } | undefined {
  if (!Array.isArray(list) || list.length === 0) {
    return reader.problem(path, `expected a non-empty list of encodings (one per channel), got ${kindOf(list)}`);
  }
  const first: unknown = list[0];
  if (!isRecord(first)) return reader.problem(at(path, 0), `expected an encoding object, got ${kindOf(first)}`);
  const dtype = first.dtype ?? 'int'; // 0.4.0 files have no dtype: always integer
  if (dtype !== 'int' && dtype !== 'float')
    return reader.problem(at(at(path, 0), 'dtype'), `expected "int" or "float", got ${kindOf(dtype)}`);
  const bitwidth = reader.bitwidth(first.bitwidth, at(at(path, 0), 'bitwidth'));
  if (bitwidth === undefined) return undefined;
  if (dtype === 'float') {
    if (list.length > 1) return reader.problem(path, `a float encoding has one item, got ${list.length}`);
    return { encoding: { dtype: 'float', bitwidth, symmetric: false, channels: [] }, perChannel: false };
  }
  const symmetric = reader.symmetric(first.is_symmetric, at(at(path, 0), 'is_symmetric'));
  if (symmetric === undefined) return undefined;
  const raw: { scale: number; offset: number; min: number | undefined; max: number | undefined }[] = [];
  const before = reader.problems.length;
  for (const [i, item] of (list as unknown[]).entries()) {
    const p = at(path, i);
    if (!isRecord(item)) {
      reader.problem(p, `expected an encoding object, got ${kindOf(item)}`);
      continue;
    }
    if ((item.dtype ?? 'int') !== 'int')
      reader.problem(at(p, 'dtype'), `channel ${i} has dtype ${kindOf(item.dtype)}, channel 0 has "int"`);
    if (item.bitwidth !== bitwidth)
      reader.problem(at(p, 'bitwidth'), `channel ${i} has bitwidth ${kindOf(item.bitwidth)}, channel 0 has ${bitwidth}`);
    if (i > 0 && item.is_symmetric !== undefined) {
      const s = reader.symmetric(item.is_symmetric, at(p, 'is_symmetric'));
      if (s !== undefined && s !== symmetric) {
        reader.problem(
          at(p, 'is_symmetric'),
          `channel ${i} has is_symmetric ${kindOf(item.is_symmetric)}, channel 0 has "${symmetric ? 'True' : 'False'}"`,
        );
      }
    }
    const scale = reader.scale(item.scale, at(p, 'scale'));
    const offset = reader.offset(item.offset, at(p, 'offset'), bitwidth);
    const min = reader.optionalFinite(item.min, at(p, 'min'));
    const max = reader.optionalFinite(item.max, at(p, 'max'));
    if (scale !== undefined && offset !== undefined) raw.push({ scale, offset, min, max });
  }
  if (reader.problems.length > before) return undefined;
  const flags = symmetryFlags(
    symmetric,
    bitwidth,
    raw.map((r) => r.offset),
  );
  const channels = raw.map((r) => {
    const computed = channelOf(r.scale, r.offset, bitwidth, flags.strictSymmetric === true);
    return { min: r.min ?? computed.min, max: r.max ?? computed.max, scale: r.scale, offset: r.offset };
  });
  return {
    encoding: { dtype: 'int', bitwidth, symmetric, ...flags, channels },
    perChannel: raw.length > 1 ? true : undefined,
  };
}
/** A 0.6.1 entry: one item per channel; float encodings only name their width. */
export function writeLegacyEntry(e: Encoding): AimetLegacyEncoding[] {
  if (e.dtype === 'float') return [{ bitwidth: e.bitwidth, dtype: 'float' }];
  return e.channels.map((c) => ({
    bitwidth: e.bitwidth,
    dtype: 'int',
    is_symmetric: e.symmetric ? 'True' : 'False',
    max: c.max,
    min: c.min,
    offset: c.offset,
    scale: c.scale,
  }));
}
