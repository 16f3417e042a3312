import { readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelProto, TensorProto } from 'onnx-buf';
import { TensorProto_DataLocation, Version } from 'onnx-buf';
import { GraphStructureError } from '../errors/graph-structure-error.js';
import { ExternalDataError, ModelLoadError } from '../errors/model-errors.js';
import { dtypeByteSize, dtypeName } from '../onnx/dtype.js';
import { elementCount } from '../onnx/tensor-values.js';
import { Model } from './model.js';
import { forEachTensor } from './tensors.js';

/** The oldest IR version quantsim reads (ONNX 1.0 wrote 3) and the newest it knows. */
export const MIN_IR_VERSION = 3;
export const MAX_IR_VERSION = Version.IR_VERSION;

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Folder that external-data locations are relative to; defaults to the model file's folder. */
  readonly baseDir?: string;
}

/**
 * Reads and checks an ONNX model from a file path or from bytes.
 *
 * The model is decoded, checked (a graph, a supported IR version, an opset, a well-formed graph),
 * and its external data is read, refusing locations outside the model's folder.
 *
 * @throws ModelLoadError naming the file and what is wrong, never a raw protobuf error.
 * @throws ExternalDataError (a ModelLoadError) for unsafe or missing external data.
 *
 * ### Examples
 * ```ts
 * const model = await loadModel('model.onnx');
 * console.log(model.layers().length);
 * ```
 */
export async function loadModel(source: string | Uint8Array, options: LoadModelOptions = {}): Promise<Model> {
  if (typeof source === 'string') {
    const bytes = await readModelFile(source);
    return decodeModel(bytes, source, options.baseDir ?? path.dirname(path.resolve(source)));
  }
  if (!(source instanceof Uint8Array))
    throw new ModelLoadError('<argument>', `expected a file path or a Uint8Array, received ${typeof source}`, {
      hint: 'Pass the path of an .onnx file, or its bytes.',
    });
  return decodeModel(source, '<bytes>', options.baseDir);
}

/** Synchronous {@link loadModel}, for scripts and the CLI. */
export function loadModelSync(source: string | Uint8Array, options: LoadModelOptions = {}): Model {
  if (typeof source === 'string') {
    let bytes: Uint8Array;
    try {
      statCheck(source);
      bytes = readFileSync(source);
    } catch (e) {
      throw fileError(source, e);
    }
    return decodeModel(bytes, source, options.baseDir ?? path.dirname(path.resolve(source)));
  }
  return decodeModel(source, '<bytes>', options.baseDir);
}

async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    statCheck(file);
    return await readFile(file);
  } catch (e) {
    throw fileError(file, e);
  }
}

function statCheck(file: string): void {
  const st = statSync(file);
  if (st.isDirectory()) throw fileError(file, { code: 'EISDIR' });
}

function fileError(file: string, e: unknown): ModelLoadError {
  if (e instanceof ModelLoadError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT')
    return new ModelLoadError(file, 'the file does not exist', {
      hint: `Check the path (relative paths start at ${process.cwd()}).`,
      cause: e,
    });
  if (code === 'EISDIR')
    return new ModelLoadError(file, 'it is a folder, not a file', { hint: 'Pass the path of the .onnx file inside it.' });
  if (code === 'EACCES') return new ModelLoadError(file, 'permission denied', { hint: 'Check the file permissions.', cause: e });
  return new ModelLoadError(file, `the file cannot be read (${(e as Error).message})`, { cause: e });
}

const NOT_ONNX_HINT = 'Check that the file is an ONNX model (.onnx) and was copied completely.';

function decodeModel(bytes: Uint8Array, source: string, baseDir: string | undefined): Model {
  if (bytes.byteLength === 0) throw new ModelLoadError(source, 'the file is empty', { hint: 'Re-export or re-copy the model.' });
  let proto: ModelProto;
  try {
    proto = Model.decode(bytes);
  } catch (e) {
    throw new ModelLoadError(
      source,
      `the bytes are not a valid ONNX protobuf (${(e as Error).message}); the file may be truncated or not a model`,
      {
        hint: NOT_ONNX_HINT,
        cause: e,
      },
    );
  }
  try {
    validate(proto, source);
    const external = readExternalData(proto, source, baseDir);
    const model = new Model(proto, { source, baseDir }, external);
    // Building the view checks the graph's structure (dangling inputs, cycles, duplicate outputs).
    void model.graph;
    return model;
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    if (e instanceof GraphStructureError)
      throw new ModelLoadError(source, `the graph is not well formed: ${e.reason}`, { hint: NOT_ONNX_HINT, cause: e });
    throw new ModelLoadError(source, `the model is malformed (${(e as Error)?.message ?? String(e)})`, {
      hint: NOT_ONNX_HINT,
      cause: e,
    });
  }
}

function validate(proto: ModelProto, source: string): void {
  const ir = Number(proto.irVersion);
  if (!proto.graph) {
    if (ir === 0 && proto.opsetImport.length === 0)
      throw new ModelLoadError(source, 'the bytes decode to an empty message, not a model', { hint: NOT_ONNX_HINT });
    throw new ModelLoadError(source, 'the model has no graph', { hint: 'Export the model again; the graph field is required.' });
  }
  if (ir === 0) throw new ModelLoadError(source, 'the model has no ir_version', { hint: NOT_ONNX_HINT });
  if (ir < MIN_IR_VERSION || ir > MAX_IR_VERSION)
    throw new ModelLoadError(
      source,
      `IR version ${ir} is not supported (quantsim reads ${MIN_IR_VERSION} to ${MAX_IR_VERSION})`,
      {
        hint:
          ir > MAX_IR_VERSION
            ? 'The model was written by a newer ONNX; convert it with onnx.version_converter or an older exporter.'
            : 'Re-export the model with a current ONNX exporter.',
      },
    );
  if (proto.opsetImport.length === 0) throw new ModelLoadError(source, 'the model imports no opset', { hint: NOT_ONNX_HINT });
  for (const o of proto.opsetImport) {
    const v = Number(o.version);
    if (!Number.isSafeInteger(v) || v < 1 || v > 1000)
      throw new ModelLoadError(source, `opset ${o.domain || 'ai.onnx'} has version ${o.version}`, { hint: NOT_ONNX_HINT });
  }
  const g = proto.graph;
  g.node.forEach((n, i) => {
    if (!n.opType) throw new ModelLoadError(source, `node ${i} has no op_type`, { hint: NOT_ONNX_HINT });
  });
  forEachTensor(proto, (t) => {
    if (t.dataType !== 0 && dtypeName(t.dataType) === undefined)
      throw new ModelLoadError(source, `tensor '${t.name}' has unknown element type ${t.dataType}`, { hint: NOT_ONNX_HINT });
    for (const d of t.dims)
      if (d < 0n) throw new ModelLoadError(source, `tensor '${t.name}' has a negative dimension ${d}`, { hint: NOT_ONNX_HINT });
    const type = dtypeName(t.dataType);
    const size = type ? dtypeByteSize(type) : undefined;
    if (size && t.rawData.length > 0 && t.dataLocation !== TensorProto_DataLocation.EXTERNAL) {
      const want = elementCount(t.dims) * size;
      if (t.rawData.length !== want)
        throw new ModelLoadError(
          source,
          `tensor '${t.name}' holds ${t.rawData.length} bytes of data but its shape needs ${want}`,
          {
            hint: NOT_ONNX_HINT,
          },
        );
    }
  });
}

function externalEntry(t: TensorProto, key: string): string | undefined {
  return t.externalData.find((e) => e.key === key)?.value;
}

/**
 * Reads every external tensor's bytes. Locations must be relative paths that stay inside the
 * model's folder, also after following symbolic links.
 */
function readExternalData(proto: ModelProto, source: string, baseDir: string | undefined): Map<TensorProto, Uint8Array> {
  const out = new Map<TensorProto, Uint8Array>();
  const files = new Map<string, Uint8Array>();
  forEachTensor(proto, (t) => {
    if (t.dataLocation !== TensorProto_DataLocation.EXTERNAL) return;
    const location = externalEntry(t, 'location') ?? '';
    const fail = (reason: string, hint: string) => new ExternalDataError(source, t.name, location, reason, { hint });
    if (!location) throw fail('is empty', 'The model is malformed: every external tensor needs a location.');
    if (baseDir === undefined)
      throw fail(
        'cannot be resolved for a model given as bytes',
        'Load the model from its file, or pass { baseDir } to loadModel.',
      );
    if (path.isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location))
      throw fail(
        'is an absolute path',
        'External data must sit in the model folder; move the file there and use a relative location.',
      );
    const root = path.resolve(baseDir);
    const target = path.resolve(root, location);
    const rel = path.relative(root, target);
    if (rel.startsWith('..') || path.isAbsolute(rel))
      throw fail('points outside the model folder', 'External data must sit in the model folder; move the file there.');
    let real: string;
    try {
      real = realpathSync(target);
    } catch {
      throw fail(`does not exist (looked for ${target})`, 'Copy the external data file next to the model.');
    }
    const realRel = path.relative(realpathSync(root), real);
    if (realRel.startsWith('..') || path.isAbsolute(realRel))
      throw fail(
        'is a symbolic link that leads outside the model folder',
        'Copy the data file into the model folder instead of linking it.',
      );
    let file = files.get(real);
    if (!file) {
      file = readFileSync(real);
      files.set(real, file);
    }
    const offset = Number(externalEntry(t, 'offset') ?? '0');
    const type = dtypeName(t.dataType);
    const size = type ? dtypeByteSize(type) : undefined;
    const lengthEntry = externalEntry(t, 'length');
    const length =
      lengthEntry !== undefined
        ? Number(lengthEntry)
        : size !== undefined
          ? elementCount(t.dims) * size
          : file.byteLength - offset;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
      throw fail(`has an invalid offset ${offset} or length ${length}`, 'The model is malformed; re-export it.');
    if (offset + length > file.byteLength)
      throw fail(
        `is ${file.byteLength} bytes long, too short for offset ${offset} + length ${length}`,
        'The data file is truncated; copy it again.',
      );
    out.set(t, file.subarray(offset, offset + length));
  });
  return out;
}
