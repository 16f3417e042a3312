import path from 'node:path';
import type { Int32BiasLink } from '../contracts/aimet-encodings.js';
import { AIMET_ENCODINGS_VERSIONS, type AimetEncodingsVersion } from '../contracts/aimet-format.js';
import type { EncodingMap } from '../contracts/encoding.js';
import { describeValue, QuantsimError } from '../errors/quantsim-error.js';
import type { FileToWrite } from '../io/atomic-write.js';
import type { FileIdentity } from '../io/file-identity.js';
import { writeFileSet } from '../io/file-set.js';
import { assertNotSource } from '../io/source-guard.js';
import type { Model } from '../model/model.js';
import type { QuantPlan } from '../plan/plan.js';
import { serializeAimetEncodings } from './aimet/write.js';
import { toOrtTensorQuantOverrides } from './ort-overrides.js';
import { stableJson } from './stable-json.js';

/** The files `sim.export` can write. */
export type ExportFormat = 'encodings' | 'onnx' | 'qdq' | 'ort-overrides' | 'plan';

/** Every format, in the order files are listed. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['encodings', 'onnx', 'qdq', 'ort-overrides', 'plan'];

/** Options of `sim.export`. */
export interface ExportOptions {
  /** Which files to write (default: all). */
  readonly formats?: readonly ExportFormat[];
  /** AIMET encodings version (default 1.0.0). */
  readonly encodingVersion?: AimetEncodingsVersion;
  /**
   * Write AIMET 2.x's int32 biases to the `.encodings` file (AIMET's `export_int32_bias`): for the
   * bias of each Conv, ConvTranspose, Gemm and MatMul + Add whose input and weight are quantized
   * to integers and whose bias has no encoding of its own, 32 bits with scale input scale ×
   * weight scale (per channel where the weight is), zero point 0. Default: `true` for
   * `encodingVersion: '2.0.0'`, `false` for 0.6.1 and 1.0.0, as in AIMET. The QDQ model's int32
   * biases do not depend on it.
   */
  readonly int32Bias?: boolean;
  /**
   * Bitwidths without an ONNX type (not 4, 8 or 16) in the QDQ model: `error` (default) or
   * `clip`, which writes an 8/16-bit Q/DQ pair with a Clip to the narrower grid in between.
   */
  readonly unsupportedBitwidth?: 'error' | 'clip';
}

/** What an export wrote, by format. */
export type ExportedFiles = Partial<Record<ExportFormat, string>>;

/** What an export needs from a simulation. */
export interface ExportSource {
  readonly plan: QuantPlan;
  readonly encodings: EncodingMap;
  /** The float model that was simulated (BatchNorms folded). */
  readonly floatModel: Model;
  /** The model the user loaded, which must never be overwritten. */
  readonly sourcePath: string | undefined;
  /** The files the model was read from, by identity (see `ModelOrigin.files`). */
  readonly sourceFiles?: readonly FileIdentity[];
  /** The model's biases that AIMET writes as int32, for the `.encodings` file. */
  readonly biasLinks?: readonly Int32BiasLink[];
  /** Builds the deployable QDQ model bytes. */
  readonly qdqModel?: (options: ExportOptions) => Uint8Array;
}

/** The file name of each format, for a prefix. */
export function exportPaths(prefix: string): Record<ExportFormat, string> {
  return {
    encodings: `${prefix}.encodings`,
    onnx: `${prefix}.onnx`,
    qdq: `${prefix}.qdq.onnx`,
    'ort-overrides': `${prefix}.ort-overrides.json`,
    plan: `${prefix}.plan.json`,
  };
}

/**
 * Writes the chosen formats: every file is built in memory first and then all are renamed into
 * place together, so a failure leaves a previous export's files as they were.
 */
export async function exportSimulation(
  source: ExportSource,
  prefix: string,
  options: ExportOptions = {},
): Promise<ExportedFiles> {
  if (typeof prefix !== 'string' || prefix === '' || prefix.endsWith('/') || prefix.endsWith(path.sep))
    throw new QuantsimError('EXPORT', `export() needs a path prefix such as 'out/model', received ${JSON.stringify(prefix)}.`, {
      hint: 'Files are named <prefix>.encodings, <prefix>.onnx, <prefix>.qdq.onnx…; give the prefix, not a folder.',
    });
  checkExportOptions(options);
  const formats = options.formats ?? EXPORT_FORMATS;
  for (const f of formats)
    if (!EXPORT_FORMATS.includes(f))
      throw new QuantsimError('EXPORT', `Unknown export format '${String(f)}'.`, {
        hint: `Formats: ${EXPORT_FORMATS.join(', ')}.`,
      });
  const paths = exportPaths(prefix);
  const files: FileToWrite[] = [];
  const written: ExportedFiles = {};
  assertNotSource(
    formats.map((f) => paths[f]),
    { path: source.sourcePath, files: source.sourceFiles, action: 'export' },
    'Choose another prefix: quantsim never overwrites the model it was given.',
  );
  for (const f of formats) {
    const file = paths[f];
    files.push({ path: file, data: render(f, source, options) });
    written[f] = path.resolve(file);
  }
  await writeFileSet(files, { userPath: prefix, base: path.basename(prefix) });
  return written;
}

function checkExportOptions(options: ExportOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new QuantsimError('EXPORT', `export() options must be an object, received ${describeValue(options)}.`);
  const known = ['formats', 'encodingVersion', 'int32Bias', 'unsupportedBitwidth'];
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw new QuantsimError('EXPORT', `export(): unknown option '${key}'.`, { hint: `Options: ${known.join(', ')}.` });
  const v = options.encodingVersion;
  if (v !== undefined && !AIMET_ENCODINGS_VERSIONS.includes(v))
    throw new QuantsimError('EXPORT', `export(): encodingVersion ${describeValue(v)} is not an AIMET encodings version.`, {
      hint: `Valid versions: ${AIMET_ENCODINGS_VERSIONS.map((x) => `'${x}'`).join(', ')} (default '1.0.0').`,
    });
  if (options.int32Bias !== undefined && typeof options.int32Bias !== 'boolean')
    throw new QuantsimError('EXPORT', `export(): int32Bias must be true or false, received ${describeValue(options.int32Bias)}.`);
  const u = options.unsupportedBitwidth;
  if (u !== undefined && u !== 'error' && u !== 'clip')
    throw new QuantsimError('EXPORT', `export(): unsupportedBitwidth must be 'error' or 'clip', received ${describeValue(u)}.`);
}

function render(format: ExportFormat, source: ExportSource, options: ExportOptions): Uint8Array | string {
  switch (format) {
    case 'encodings':
      return serializeAimetEncodings(source.plan, source.encodings, {
        ...(options.encodingVersion ? { version: options.encodingVersion } : {}),
        ...(options.int32Bias !== undefined ? { int32Bias: options.int32Bias } : {}),
        ...(source.biasLinks ? { biasLinks: source.biasLinks } : {}),
      });
    case 'onnx':
      return source.floatModel.toBytes({ inlineExternal: true });
    case 'qdq':
      if (!source.qdqModel)
        throw new QuantsimError('EXPORT', 'This simulation cannot build a QDQ model.', { hint: "Leave 'qdq' out of formats." });
      return source.qdqModel(options);
    case 'ort-overrides':
      return stableJson({ TensorQuantOverrides: toOrtTensorQuantOverrides(source.plan, source.encodings) });
    case 'plan':
      return stableJson({ version: 1, ...source.plan.toJSON() });
  }
}
