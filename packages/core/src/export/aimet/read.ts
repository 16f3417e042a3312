import type { Encoding } from '../../contracts/encoding.js';

export type { ParsedEncoding, ParsedEncodings } from '../../contracts/aimet-encodings.js';

import type { ParsedEncoding, ParsedEncodings } from '../../contracts/aimet-encodings.js';
import type { AimetEncodingsVersion } from '../../contracts/aimet-format.js';
import { offsetFromZeroPoint } from '../../encode/onnx-quant-params.js';
import { EncodingsFormatError } from '../../errors/encodings-errors.js';
import { at, isRecord, type Json, kindOf, Reader } from './reader.js';
import { readLegacyEntry } from './v0-6-1.js';
import { readV1Entry } from './v1-0-0.js';
import { readV2Entry } from './v2-0-0.js';

/*
 * Reading follows AIMET's own readers: aimet_onnx `encodings.py` (`_infer_encoding_version`,
 * `AffineEncoding._from_0_6_1`, `_from_1_0_0`, `_from_2_0_0`) and `qc_quantize_op.py`
 * (`_get_symmetric_properties`: strict symmetric when offset == -2^(bw-1) + 1; unsigned symmetric
 * when a symmetric offset is 0).
 */

/** Versions whose layout is 0.6.1's (dictionaries of per-channel lists), per AIMET's spec. */
const LEGACY_VERSIONS: ReadonlySet<string> = new Set(['0.4.0', '0.5.0', '0.6.1']);

/** Reads text or bytes as JSON, or passes an object through. */
function toJson(input: string | Uint8Array | object, reader: Reader): unknown {
  let text: string;
  if (typeof input === 'string') text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  else if (input instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      return reader.problem('$', 'the file is not UTF-8 text');
    }
  } else return input;
  if (text.trim() === '') return reader.problem('$', 'the file is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return reader.problem('$', `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Which layout a file has: from `version`, or from the shape of its sections when it has none. */
function detectVersion(file: Json, reader: Reader): AimetEncodingsVersion | undefined {
  const declared = file.version;
  if (declared !== undefined) {
    if (typeof declared !== 'string')
      return reader.problem('$.version', `expected a version string such as "1.0.0", got ${kindOf(declared)}`);
    if (LEGACY_VERSIONS.has(declared)) return '0.6.1';
    if (declared === '1.0.0' || declared === '2.0.0') return declared;
    return reader.problem(
      '$.version',
      `version '${declared}' is not supported; quantsim reads 0.6.1 (and the older 0.4.0 and 0.5.0), 1.0.0 and 2.0.0`,
    );
  }
  if (Array.isArray(file.encodings)) return '2.0.0';
  const sections = [file.activation_encodings, file.param_encodings].filter((s) => s !== undefined);
  if (sections.length > 0 && sections.every(isRecord)) return '0.6.1';
  if (sections.length > 0 && sections.every(Array.isArray)) return '1.0.0';
  return reader.problem(
    '$',
    'not an AIMET encodings file: it has no "version" and no "activation_encodings"/"param_encodings" objects or "encodings" list',
  );
}

/**
 * Reads an AIMET encodings file (text, bytes or already-parsed JSON) of version 0.6.1 (and the
 * older 0.4.0 and 0.5.0 with the same layout, including files without `version`), 1.0.0 or
 * 2.0.0, checks every entry, and converts each to quantsim's {@link Encoding}.
 *
 * Offsets are AIMET's (unsigned grid, in [-(2^b − 1), 0]); 2.0.0 zero points are converted back
 * with {@link offsetFromZeroPoint}. `min`/`max` come from the file when it has them (0.6.1) and
 * are computed from scale and offset otherwise. Strict and unsigned symmetric grids are recognised
 * from their offsets (−2^(b−1) + 1 and 0), as AIMET does.
 *
 * @param source names the file in messages.
 * @throws EncodingsFormatError listing every problem, each with its JSON path.
 */
export function parseAimetEncodings(input: string | Uint8Array | object, source = '<encodings>'): ParsedEncodings {
  const reader = new Reader();
  const fail = (): never => {
    throw new EncodingsFormatError(source, reader.problems);
  };
  const json = toJson(input, reader);
  if (reader.problems.length > 0) fail();
  if (!isRecord(json)) {
    reader.problem('$', `expected a JSON object with "version" and the encodings, got ${kindOf(json)}`);
    return fail();
  }
  const version = detectVersion(json, reader);
  if (version === undefined) return fail();
  const entries: ParsedEncoding[] = [];

  if (version === '2.0.0') {
    const list = json.encodings;
    if (!Array.isArray(list)) reader.problem('$.encodings', `expected a list of encodings (version 2.0.0), got ${kindOf(list)}`);
    else {
      const seen = new Set<string>();
      for (const [i, item] of (list as unknown[]).entries()) {
        const path = at('$.encodings', i);
        if (!isRecord(item)) {
          reader.problem(path, `expected an encoding object, got ${kindOf(item)}`);
          continue;
        }
        const tensor = reader.name(item.name, at(path, 'name'), seen);
        const parsed = readV2Entry(reader, item, path);
        if (tensor !== undefined && parsed) entries.push({ tensor, kind: undefined, path, ...parsed });
      }
    }
  } else {
    for (const [key, kind] of [
      ['activation_encodings', 'activation'],
      ['param_encodings', 'param'],
    ] as const) {
      const section = json[key];
      const base = `$.${key}`;
      if (section === undefined) continue;
      if (version === '0.6.1') {
        if (!isRecord(section)) {
          reader.problem(
            base,
            `expected an object mapping tensor names to lists of encodings (version 0.6.1), got ${kindOf(section)}`,
          );
          continue;
        }
        for (const [tensor, list] of Object.entries(section)) {
          const path = at(base, tensor);
          const parsed = readLegacyEntry(reader, list, path);
          if (parsed) entries.push({ tensor, kind, path, ...parsed });
        }
      } else {
        if (!Array.isArray(section)) {
          reader.problem(base, `expected a list of encodings (version 1.0.0), got ${kindOf(section)}`);
          continue;
        }
        const seen = new Set<string>();
        for (const [i, item] of (section as unknown[]).entries()) {
          const path = at(base, i);
          if (!isRecord(item)) {
            reader.problem(path, `expected an encoding object, got ${kindOf(item)}`);
            continue;
          }
          const tensor = reader.name(item.name, at(path, 'name'), seen);
          const parsed = readV1Entry(reader, item, path);
          if (tensor !== undefined && parsed) entries.push({ tensor, kind, path, ...parsed });
        }
      }
    }
  }

  let excludedLayers: string[] = [];
  const excluded = json.excluded_layers;
  if (excluded !== undefined && excluded !== null) {
    if (Array.isArray(excluded) && excluded.every((l) => typeof l === 'string')) excludedLayers = [...excluded];
    else reader.problem('$.excluded_layers', `expected a list of layer names, got ${kindOf(excluded)}`);
  }
  const args = json.quantizer_args;
  if (args !== undefined && !isRecord(args)) reader.problem('$.quantizer_args', `expected an object, got ${kindOf(args)}`);
  if (reader.problems.length > 0) fail();

  return {
    source,
    version,
    declaredVersion: typeof json.version === 'string' ? json.version : undefined,
    entries,
    excludedLayers,
    quantizerArgs: isRecord(args) ? args : undefined,
  };
}
