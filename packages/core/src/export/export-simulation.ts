import path from 'node:path';
import type { AimetEncodingsVersion } from '../contracts/aimet-format.js';
import type { EncodingMap } from '../contracts/encoding.js';
import { QuantsimError } from '../errors/quantsim-error.js';
import { type FileToWrite, writeFilesAtomically } from '../io/atomic-write.js';
import { samePath } from '../io/same-path.js';
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
  const formats = options.formats ?? EXPORT_FORMATS;
  for (const f of formats)
    if (!EXPORT_FORMATS.includes(f))
      throw new QuantsimError('EXPORT', `Unknown export format '${String(f)}'.`, {
        hint: `Formats: ${EXPORT_FORMATS.join(', ')}.`,
      });
  const paths = exportPaths(prefix);
  const files: FileToWrite[] = [];
  const written: ExportedFiles = {};
  for (const f of formats) {
    const file = paths[f];
    if (source.sourcePath && samePath(file, source.sourcePath))
      throw new QuantsimError('EXPORT', `export() would overwrite the source model ${source.sourcePath}.`, {
        hint: 'Choose another prefix: quantsim never overwrites the model it was given.',
      });
    files.push({ path: file, data: render(f, source, options) });
    written[f] = path.resolve(file);
  }
  await writeFilesAtomically(files);
  return written;
}

function render(format: ExportFormat, source: ExportSource, options: ExportOptions): Uint8Array | string {
  switch (format) {
    case 'encodings':
      return serializeAimetEncodings(
        source.plan,
        source.encodings,
        options.encodingVersion ? { version: options.encodingVersion } : {},
      );
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
