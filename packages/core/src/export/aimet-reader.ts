import type { ChannelEncoding, Encoding } from '../contracts/encoding.js';
import { describeValue } from '../errors/quantsim-error.js';
import type { AimetEncodingsVersion } from './aimet-format.js';
import { EncodingsFormatError, type EncodingsFormatProblem } from './encodings-errors.js';
import { integerRange, offsetFromZeroPoint } from './onnx-quant-params.js';

/*
 * Reading follows AIMET's own readers: aimet_onnx `encodings.py` (`_infer_encoding_version`,
 * `AffineEncoding._from_0_6_1`, `_from_1_0_0`, `_from_2_0_0`) and `qc_quantize_op.py`
 * (`_get_symmetric_properties`: strict symmetric when offset == -2^(bw-1) + 1; unsigned symmetric
 * when a symmetric offset is 0).
 */

/** One tensor's encoding read from an AIMET encodings file. */
export interface ParsedEncoding {
  /** The tensor name the file gives. */
  readonly tensor: string;
  /**
   * The section it came from: `activation` (`activation_encodings`) or `param`
   * (`param_encodings`); `undefined` in 2.0.0 files, whose single list does not say.
   */
  readonly kind: 'activation' | 'param' | undefined;
  /** JSONPath of the entry, for messages. */
  readonly path: string;
  /**
   * The encoding. Per-channel encodings of 0.6.1 and 1.0.0 files have no `axis` (those formats
   * do not record it); matching takes it from the plan.
   */
  readonly encoding: Encoding;
  /**
   * Whether the file says per-channel: 0.6.1 entries with several items, 1.0.0 `PER_CHANNEL`,
   * 2.0.0 entries with an `axis`. `undefined` when the file cannot tell (a 0.6.1 entry with one item).
   */
  readonly perChannel: boolean | undefined;
  /**
   * `true` for 2.0.0 entries of an unsigned type, whose symmetry is read from the grid: such a
   * grid is also a valid asymmetric one, so it agrees with an asymmetric quantizer as well.
   */
  readonly symmetryFromGrid?: true;
}

/** The content of an AIMET encodings file, checked and converted to quantsim's {@link Encoding}s. */
export interface ParsedEncodings {
  /** The file name given to the parser, or `<encodings>`. */
  readonly source: string;
  /** The layout the file uses; files without `version` that have 0.6.1's layout read as 0.6.1. */
  readonly version: AimetEncodingsVersion;
  /** The `version` string as written (`0.4.0`, `0.6.1`…), or `undefined` when the file has none. */
  readonly declaredVersion: string | undefined;
  /** Every encoding, in file order (activations, then parameters, for 0.6.1 and 1.0.0). */
  readonly entries: readonly ParsedEncoding[];
  /** `excluded_layers`, or an empty list. */
  readonly excludedLayers: readonly string[];
  /** `quantizer_args` as written, for information; `undefined` when absent. */
  readonly quantizerArgs: Readonly<Record<string, unknown>> | undefined;
}

/** Versions whose layout is 0.6.1's (dictionaries of per-channel lists), per AIMET's spec. */
const LEGACY_VERSIONS: ReadonlySet<string> = new Set(['0.4.0', '0.5.0', '0.6.1']);

type Json = Readonly<Record<string, unknown>>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Appends a key or index to a JSONPath: `.name` for identifiers, `["conv1.weight"]` otherwise. */
function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** What a JSON value is, for messages: `a list`, `an object`, `the string 'x'`, `the number 3`. */
function kindOf(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v} ${describeValue(v)}`;
}

/** Symmetric-grid properties read from offsets, as AIMET's `_get_symmetric_properties` does. */
function symmetryFlags(symmetric: boolean, bitwidth: number, offsets: readonly number[]) {
  if (!symmetric) return {};
  const signed = offsets.filter((o) => o !== 0);
  const strict = signed.length > 0 && signed.every((o) => o === -(2 ** (bitwidth - 1)) + 1);
  const unsigned = offsets.some((o) => o === 0);
  return { ...(strict ? { strictSymmetric: true } : {}), ...(unsigned ? { unsignedSymmetric: true } : {}) };
}

/** The grid's range from scale and offset: `min = offset·scale`, `max = (offset + steps)·scale`. */
function channelOf(scale: number, offset: number, bitwidth: number, strict: boolean): ChannelEncoding {
  const steps = 2 ** bitwidth - 1 - (strict ? 1 : 0);
  return { min: offset * scale, max: (offset + steps) * scale, scale, offset };
}

/** Collects problems while walking a file, so that one error can list them all. */
class Reader {
  readonly problems: EncodingsFormatProblem[] = [];

  problem(path: string, problem: string): undefined {
    this.problems.push({ path, problem });
    return undefined;
  }

  bitwidth(v: unknown, path: string): number | undefined {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 32) return v;
    return this.problem(path, `expected a bitwidth (an integer from 1 to 32), got ${kindOf(v)}`);
  }

  scale(v: unknown, path: string): number | undefined {
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
    return this.problem(path, `expected a scale (a positive number), got ${kindOf(v)}`);
  }

  offset(v: unknown, path: string, bitwidth: number): number | undefined {
    const low = -(2 ** bitwidth - 1);
    if (typeof v === 'number' && Number.isInteger(v) && v <= 0 && v >= low) return v === 0 ? 0 : v;
    return this.problem(path, `expected an offset (an integer from ${low} to 0 at ${bitwidth} bits), got ${kindOf(v)}`);
  }

  symmetric(v: unknown, path: string): boolean | undefined {
    if (v === 'True' || v === true) return true;
    if (v === 'False' || v === false) return false;
    return this.problem(path, `expected "True" or "False", got ${kindOf(v)}`);
  }

  optionalFinite(v: unknown, path: string): number | undefined {
    if (v === undefined || (typeof v === 'number' && Number.isFinite(v))) return v;
    return this.problem(path, `expected a number, got ${kindOf(v)}`);
  }

  name(v: unknown, path: string, seen: Set<string>): string | undefined {
    if (typeof v !== 'string' || v.length === 0)
      return this.problem(path, `expected a tensor name (a non-empty string), got ${kindOf(v)}`);
    if (seen.has(v)) return this.problem(path, `tensor '${v}' is listed twice`);
    seen.add(v);
    return v;
  }

  /** A 0.6.1 entry: a list with one item per channel (float encodings: one item). */
  legacyEntry(list: unknown, path: string): { encoding: Encoding; perChannel: boolean | undefined } | undefined {
    if (!Array.isArray(list) || list.length === 0) {
      return this.problem(path, `expected a non-empty list of encodings (one per channel), got ${kindOf(list)}`);
    }
    const first: unknown = list[0];
    if (!isRecord(first)) return this.problem(at(path, 0), `expected an encoding object, got ${kindOf(first)}`);
    const dtype = first.dtype ?? 'int'; // 0.4.0 files have no dtype: always integer
    if (dtype !== 'int' && dtype !== 'float')
      return this.problem(at(at(path, 0), 'dtype'), `expected "int" or "float", got ${kindOf(dtype)}`);
    const bitwidth = this.bitwidth(first.bitwidth, at(at(path, 0), 'bitwidth'));
    if (bitwidth === undefined) return undefined;
    if (dtype === 'float') {
      if (list.length > 1) return this.problem(path, `a float encoding has one item, got ${list.length}`);
      return { encoding: { dtype: 'float', bitwidth, symmetric: false, channels: [] }, perChannel: false };
    }
    const symmetric = this.symmetric(first.is_symmetric, at(at(path, 0), 'is_symmetric'));
    if (symmetric === undefined) return undefined;
    const raw: { scale: number; offset: number; min: number | undefined; max: number | undefined }[] = [];
    const before = this.problems.length;
    for (const [i, item] of (list as unknown[]).entries()) {
      const p = at(path, i);
      if (!isRecord(item)) {
        this.problem(p, `expected an encoding object, got ${kindOf(item)}`);
        continue;
      }
      if ((item.dtype ?? 'int') !== 'int')
        this.problem(at(p, 'dtype'), `channel ${i} has dtype ${kindOf(item.dtype)}, channel 0 has "int"`);
      if (item.bitwidth !== bitwidth)
        this.problem(at(p, 'bitwidth'), `channel ${i} has bitwidth ${kindOf(item.bitwidth)}, channel 0 has ${bitwidth}`);
      if (i > 0 && item.is_symmetric !== undefined) {
        const s = this.symmetric(item.is_symmetric, at(p, 'is_symmetric'));
        if (s !== undefined && s !== symmetric) {
          this.problem(
            at(p, 'is_symmetric'),
            `channel ${i} has is_symmetric ${kindOf(item.is_symmetric)}, channel 0 has "${symmetric ? 'True' : 'False'}"`,
          );
        }
      }
      const scale = this.scale(item.scale, at(p, 'scale'));
      const offset = this.offset(item.offset, at(p, 'offset'), bitwidth);
      const min = this.optionalFinite(item.min, at(p, 'min'));
      const max = this.optionalFinite(item.max, at(p, 'max'));
      if (scale !== undefined && offset !== undefined) raw.push({ scale, offset, min, max });
    }
    if (this.problems.length > before) return undefined;
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

  /** A 1.0.0 entry: `{name, dtype, enc_type, bw, is_sym, scale[], offset[]}`. */
  v1Entry(item: Json, path: string): { encoding: Encoding; perChannel: boolean } | undefined {
    const dtype = typeof item.dtype === 'string' ? item.dtype.toUpperCase() : item.dtype;
    if (dtype !== 'INT' && dtype !== 'FLOAT')
      return this.problem(at(path, 'dtype'), `expected "INT" or "FLOAT", got ${kindOf(item.dtype)}`);
    const encType = item.enc_type;
    if (encType === 'PER_BLOCK' || encType === 'LPBQ' || encType === 'VECTOR') {
      return this.problem(
        at(path, 'enc_type'),
        `${encType} encodings are not supported by quantsim; it reads PER_TENSOR and PER_CHANNEL`,
      );
    }
    if (encType !== 'PER_TENSOR' && encType !== 'PER_CHANNEL' && !(dtype === 'FLOAT' && encType === undefined)) {
      return this.problem(at(path, 'enc_type'), `expected "PER_TENSOR" or "PER_CHANNEL", got ${kindOf(encType)}`);
    }
    const bitwidth = this.bitwidth(item.bw, at(path, 'bw'));
    if (bitwidth === undefined) return undefined;
    if (dtype === 'FLOAT') {
      if (encType === 'PER_CHANNEL') return this.problem(at(path, 'enc_type'), 'a FLOAT encoding is PER_TENSOR');
      return { encoding: { dtype: 'float', bitwidth, symmetric: false, channels: [] }, perChannel: false };
    }
    const before = this.problems.length;
    const symmetric = this.symmetric(item.is_sym, at(path, 'is_sym'));
    const shift = item.zero_point_shift;
    if (shift !== undefined && !(Array.isArray(shift) && shift.every((s) => s === 0)) && shift !== 0) {
      this.problem(at(path, 'zero_point_shift'), 'fractional zero points (zero_point_shift) are not supported by quantsim');
    }
    const scales = item.scale;
    const offsets = item.offset;
    if (!Array.isArray(scales) || scales.length === 0)
      this.problem(at(path, 'scale'), `expected a non-empty list of scales, got ${kindOf(scales)}`);
    if (!Array.isArray(offsets)) this.problem(at(path, 'offset'), `expected a list of offsets, got ${kindOf(offsets)}`);
    if (this.problems.length > before || symmetric === undefined || !Array.isArray(scales) || !Array.isArray(offsets))
      return undefined;
    if (offsets.length !== scales.length) {
      return this.problem(at(path, 'offset'), `has ${offsets.length} offsets for ${scales.length} scales`);
    }
    if (encType === 'PER_TENSOR' && scales.length !== 1) {
      return this.problem(at(path, 'scale'), `a PER_TENSOR encoding has one scale, got ${scales.length}`);
    }
    const pairs = scales.map((s: unknown, i) => [
      this.scale(s, at(at(path, 'scale'), i)),
      this.offset(offsets[i], at(at(path, 'offset'), i), bitwidth),
    ]);
    if (this.problems.length > before) return undefined;
    const flags = symmetryFlags(
      symmetric,
      bitwidth,
      pairs.map(([, o]) => o ?? 0),
    );
    const channels = pairs.map(([s, o]) => channelOf(s ?? 1, o ?? 0, bitwidth, flags.strictSymmetric === true));
    return { encoding: { dtype: 'int', bitwidth, symmetric, ...flags, channels }, perChannel: encType === 'PER_CHANNEL' };
  }

  /** A 2.0.0 entry: `{name, output_dtype, y_scale, y_zero_point?, axis?}` in ONNX's terms. */
  v2Entry(item: Json, path: string): { encoding: Encoding; perChannel: boolean; symmetryFromGrid?: true } | undefined {
    if ('per_block_int_scale' in item)
      return this.problem(path, 'LPBQ encodings (per_block_int_scale) are not supported by quantsim');
    if ('block_size' in item) return this.problem(at(path, 'block_size'), 'block encodings are not supported by quantsim');
    const dtype = item.output_dtype;
    const match = typeof dtype === 'string' ? /^(u?)int(\d+)$/.exec(dtype) : null;
    if (!match) {
      const what =
        typeof dtype === 'string'
          ? `float encodings ("${dtype}") are not supported in 2.0.0 files by quantsim`
          : `expected an integer type such as "int8" or "uint8", got ${kindOf(dtype)}`;
      return this.problem(at(path, 'output_dtype'), what);
    }
    const signed = match[1] === '';
    const bitwidth = this.bitwidth(Number(match[2]), at(path, 'output_dtype'));
    if (bitwidth === undefined) return undefined;
    const before = this.problems.length;
    const axis = item.axis;
    if (axis !== undefined && !(typeof axis === 'number' && Number.isInteger(axis))) {
      this.problem(at(path, 'axis'), `expected an integer axis, got ${kindOf(axis)}`);
    }
    const yScale = item.y_scale;
    const scaleList = Array.isArray(yScale) ? yScale : [yScale];
    if (Array.isArray(yScale)) {
      if (yScale.length === 0) this.problem(at(path, 'y_scale'), 'expected a non-empty list of scales');
      if (yScale.some(Array.isArray))
        this.problem(at(path, 'y_scale'), 'nested scale lists (block encodings) are not supported by quantsim');
      if (axis === undefined) this.problem(at(path, 'axis'), `a list of ${yScale.length} scales needs an axis`);
    }
    const zp = item.y_zero_point;
    let zpList: readonly unknown[];
    if (zp === undefined) zpList = scaleList.map(() => 0);
    else if (Array.isArray(zp)) zpList = zp;
    else zpList = scaleList.map(() => zp);
    if (zpList.length !== scaleList.length) {
      this.problem(at(path, 'y_zero_point'), `has ${zpList.length} zero points for ${scaleList.length} scales`);
    }
    if (this.problems.length > before) return undefined;
    const { qmin, qmax } = integerRange(bitwidth, signed);
    const pairs = scaleList.map((s: unknown, i) => {
      const scale = this.scale(s, Array.isArray(yScale) ? at(at(path, 'y_scale'), i) : at(path, 'y_scale'));
      const z = zpList[i];
      const zpPath = Array.isArray(zp) ? at(at(path, 'y_zero_point'), i) : at(path, 'y_zero_point');
      if (!(typeof z === 'number' && Number.isInteger(z) && z >= qmin && z <= qmax)) {
        return [
          scale,
          this.problem(zpPath, `expected a zero point (an integer from ${qmin} to ${qmax} for ${dtype}), got ${kindOf(z)}`),
        ];
      }
      return [scale, z];
    });
    if (this.problems.length > before) return undefined;
    const zeroPoints = pairs.map(([, z]) => z ?? 0);
    // Signed types hold symmetric grids (zero point 0, −1 when strict, −2^(b−1) when unsigned
    // symmetric). Unsigned types say nothing: AIMET writes symmetric activations as uint with the
    // zero point shifted by 2^(b−1) (`force_activation_as='unsigned'`), so the grid decides:
    // offsets −2^(b−1) (or −2^(b−1) + 1, strict) are the symmetric grid.
    const symmetricZps = new Set([0, -1, -(2 ** (bitwidth - 1))]);
    const half = 2 ** (bitwidth - 1);
    const symmetric = signed
      ? zeroPoints.every((z) => symmetricZps.has(z))
      : zeroPoints.every((z) => z === half) || zeroPoints.every((z) => z === half - 1);
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
    return { encoding, perChannel: axis !== undefined, ...(signed ? {} : { symmetryFromGrid: true as const }) };
  }
}

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
    // 2.1.0 keeps 2.0.0's layout (one `encodings` list in ONNX terms); what it adds (block and
    // LPBQ entries) is reported per entry, as in 2.0.0 files.
    if (declared === '2.1.0') return '2.0.0';
    return reader.problem(
      '$.version',
      `version '${declared}' is not supported; quantsim reads 0.6.1 (and the older 0.4.0 and 0.5.0), 1.0.0, 2.0.0 and 2.1.0`,
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
        const parsed = reader.v2Entry(item, path);
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
          const parsed = reader.legacyEntry(list, path);
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
          const parsed = reader.v1Entry(item, path);
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
