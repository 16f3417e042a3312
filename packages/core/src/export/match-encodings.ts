import type { EncodingMismatch, EncodingMismatchField, ParsedEncoding, ParsedEncodings } from '../contracts/aimet-encodings.js';
import type { Encoding } from '../contracts/encoding.js';
import type { QuantPlan } from '../plan/plan.js';
import type { QuantizerSpec } from '../plan/spec.js';

export type { EncodingMismatch, EncodingMismatchField } from '../contracts/aimet-encodings.js';

import { EncodingsMismatchError } from '../errors/encodings-errors.js';

/** Options of {@link matchEncodings}. */
export interface MatchEncodingsOptions {
  /**
   * `true` (the default): any mismatch throws one {@link EncodingsMismatchError} listing them all.
   * `false`: mismatches are returned as warnings and only the encodings that match are used.
   */
  readonly strict?: boolean;
}

/** The outcome of {@link matchEncodings}. */
export interface MatchedEncodings {
  /** The file's encodings that agree with the plan, by quantizer id, with per-channel axes resolved. */
  readonly encodings: Map<string, Encoding>;
  /** Every disagreement (empty in strict mode, which throws instead). */
  readonly mismatches: readonly EncodingMismatch[];
}

/** How a field's value reads in a message. */
function show(field: EncodingMismatchField, value: string | number | boolean | undefined): string {
  if (value === undefined) return 'none';
  switch (field) {
    case 'symmetric':
      return value ? 'symmetric' : 'asymmetric';
    case 'strictSymmetric':
      return value ? 'strict symmetric (offset -2^(b-1) + 1)' : 'symmetric, not strict';
    case 'unsignedSymmetric':
      return value ? 'unsigned symmetric (offset 0)' : 'signed symmetric only';
    case 'perChannel':
      return value ? 'per-channel' : 'per-tensor';
    case 'enabled':
      return value ? 'enabled' : 'disabled';
    case 'axis':
      return `axis ${value}`;
    default:
      return String(value);
  }
}

/** Builds a mismatch and its message line. */
function mismatch(
  tensor: string,
  quantizer: QuantizerSpec | undefined,
  field: EncodingMismatchField,
  fileValue: string | number | boolean | undefined,
  planValue: string | number | boolean | undefined,
  path: string | undefined,
  detail?: { file?: string; plan?: string },
): EncodingMismatch {
  const who = quantizer ? `'${tensor}' (${quantizer.id})` : `'${tensor}'`;
  const where = path ? ` [${path}]` : '';
  const message = `${who} ${field}: file has ${detail?.file ?? show(field, fileValue)}, plan has ${detail?.plan ?? show(field, planValue)}${where}`;
  return { tensor, quantizerId: quantizer?.id, field, fileValue, planValue, path, message };
}

/** Every disagreement between one file entry and one plan quantizer of the same tensor and kind. */
function compare(q: QuantizerSpec, entry: ParsedEncoding): EncodingMismatch[] {
  const e = entry.encoding;
  const m = (
    field: EncodingMismatchField,
    file: string | number | boolean | undefined,
    plan: string | number | boolean | undefined,
    detail?: { file?: string; plan?: string },
  ) => mismatch(entry.tensor, q, field, file, plan, entry.path, detail);
  if (!q.enabled) return [m('enabled', true, false, { file: 'an encoding', plan: 'the quantizer disabled' })];
  if (e.dtype !== q.dtype) {
    return [m('dtype', e.dtype, q.dtype, { file: `${e.dtype}${e.bitwidth}`, plan: `${q.dtype}${q.bitwidth}` })];
  }
  const out: EncodingMismatch[] = [];
  if (e.bitwidth !== q.bitwidth) out.push(m('bitwidth', e.bitwidth, q.bitwidth));
  if (e.dtype === 'float') return out;
  if (e.symmetric !== q.symmetric) out.push(m('symmetric', e.symmetric, q.symmetric));
  else if (e.symmetric) {
    // Strictness shows only in signed offsets (−2^(b−1) vs −2^(b−1) + 1); offset 0 says nothing.
    if (e.channels.some((c) => c.offset !== 0) && (e.strictSymmetric === true) !== q.strictSymmetric) {
      out.push(m('strictSymmetric', e.strictSymmetric === true, q.strictSymmetric));
    }
    // An unsigned-symmetric quantizer may still see negative data and use signed offsets, so only
    // offset 0 under a signed-only quantizer disagrees (as in AIMET's mismatch check).
    if (e.unsignedSymmetric === true && !q.unsignedSymmetric) out.push(m('unsignedSymmetric', true, false));
  }
  const planPerChannel = q.perChannelAxis !== undefined;
  if (entry.perChannel !== undefined && entry.perChannel !== planPerChannel) {
    const n = e.channels.length;
    out.push(
      m('perChannel', entry.perChannel, planPerChannel, {
        file: entry.perChannel ? `per-channel (${n} channel${n === 1 ? '' : 's'})` : 'per-tensor',
        plan: planPerChannel ? `per-channel (axis ${q.perChannelAxis})` : 'per-tensor',
      }),
    );
  } else if (planPerChannel && e.axis !== undefined && e.axis !== q.perChannelAxis) {
    out.push(m('axis', e.axis, q.perChannelAxis));
  }
  return out;
}

/** The entry's encoding for this quantizer: the plan's axis where the file records none. */
function resolve(q: QuantizerSpec, e: Encoding): Encoding {
  if (e.dtype === 'float') return e;
  const { axis: _ignored, ...rest } = e;
  const axis = q.perChannelAxis === undefined ? undefined : (e.axis ?? q.perChannelAxis);
  return axis === undefined ? rest : { ...rest, axis };
}

/**
 * Matches a parsed encodings file to the plan's quantizers by tensor name and kind: entries of
 * `activation_encodings` go to the tensor's output and input quantizers, entries of
 * `param_encodings` to its parameter quantizer (2.0.0 files, which do not separate them, go to
 * all of the tensor's quantizers).
 *
 * It reports every disagreement: tensors the plan does not quantize, a parameter listed as an
 * activation or the reverse, encodings for disabled quantizers, enabled quantizers the file does
 * not cover (except float16 ones in 2.0.0 files, which AIMET leaves out), and differences in
 * dtype, bitwidth, symmetry, strict or unsigned symmetry, per-channel and axis.
 *
 * @throws EncodingsMismatchError in strict mode (the default), listing every mismatch at once.
 */
export function matchEncodings(plan: QuantPlan, parsed: ParsedEncodings, options: MatchEncodingsOptions = {}): MatchedEncodings {
  const strict = options.strict ?? true;
  const byTensor = new Map<string, QuantizerSpec[]>();
  for (const q of plan.quantizers) {
    const list = byTensor.get(q.tensor);
    if (list) list.push(q);
    else byTensor.set(q.tensor, [q]);
  }
  const skipped = new Map(plan.skipped.map((s) => [s.tensor, s.reason]));
  const encodings = new Map<string, Encoding>();
  const mismatches: EncodingMismatch[] = [];
  const covered = new Set<string>();

  for (const entry of parsed.entries) {
    const all = byTensor.get(entry.tensor) ?? [];
    if (all.length === 0) {
      const reason = skipped.get(entry.tensor);
      mismatches.push(
        mismatch(entry.tensor, undefined, 'name', entry.tensor, undefined, entry.path, {
          file: 'an encoding',
          plan: reason
            ? `no quantizer for this tensor (skipped: ${reason})`
            : 'no quantizer for this tensor (not in the model, or not quantized)',
        }),
      );
      continue;
    }
    const sameKind = entry.kind === undefined ? all : all.filter((q) => (q.kind === 'param') === (entry.kind === 'param'));
    if (sameKind.length === 0) {
      for (const q of all) covered.add(q.id);
      const planKinds = [...new Set(all.map((q) => q.kind))].join(' and ');
      mismatches.push(
        mismatch(entry.tensor, all[0], 'kind', entry.kind, planKinds, entry.path, {
          file: `it in ${entry.kind}_encodings`,
          plan: `it quantized as ${planKinds}`,
        }),
      );
      continue;
    }
    for (const q of sameKind) {
      covered.add(q.id);
      const found = compare(q, entry);
      if (found.length > 0) mismatches.push(...found);
      else encodings.set(q.id, resolve(q, entry.encoding));
    }
  }

  for (const q of plan.quantizers) {
    if (!q.enabled || covered.has(q.id)) continue;
    if (parsed.version === '2.0.0' && q.dtype === 'float') continue;
    mismatches.push(
      mismatch(q.tensor, q, 'missing', undefined, true, undefined, {
        file: 'no encoding',
        plan: `an enabled ${q.dtype}${q.bitwidth} quantizer`,
      }),
    );
  }

  if (strict && mismatches.length > 0) throw new EncodingsMismatchError(parsed.source, mismatches);
  return { encodings, mismatches };
}
