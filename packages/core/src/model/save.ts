import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, StringStringEntryProtoSchema, type TensorProto, TensorProto_DataLocation } from 'onnx-buf';
import { ModelSaveError } from '../errors/model-errors.js';
import { writeFileSet } from '../io/file-set.js';
import { samePath } from '../io/same-path.js';
import { assertNotSource } from '../io/source-guard.js';
import type { Model } from './model.js';
import { forEachTensor } from './tensors.js';

/** Protobuf cannot serialise a message of 2 GiB or more. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /**
   * `auto` (default): external data when the model was loaded with it, or when the tensors would
   * push the file past protobuf's 2 GiB limit; `always`; `never` (an error past the limit).
   */
  readonly externalData?: 'auto' | 'always' | 'never';
  /** Tensors smaller than this many bytes stay inline when data goes external (default 1024). */
  readonly sizeThreshold?: number;
  /** Inline bytes above which `auto` writes external data (default: just under 2 GiB). */
  readonly maxInlineBytes?: number;
  /** Allow replacing the file the model was loaded from (default false). */
  readonly overwrite?: boolean;
}

/** What {@link saveModel} wrote. */
export interface SavedModel {
  readonly modelPath: string;
  /** The external data file, when one was written. */
  readonly dataPath: string | undefined;
}

/**
 * Writes a model to `file` atomically (a temporary file, then a rename). External data goes to
 * `<file name>.data` beside it, with relative locations.
 *
 * @throws ModelSaveError when the destination is the model's own source file (unless `overwrite`),
 * or when the model cannot fit in one protobuf and external data is refused.
 */
export async function saveModel(model: Model, file: string, options: SaveModelOptions = {}): Promise<SavedModel> {
  const dest = path.resolve(file);
  const fix = 'Choose another path, or pass { overwrite: true } if you mean it.';
  const source = {
    path: model.origin.source.startsWith('<') ? undefined : model.origin.source,
    files: model.origin.files,
    action: 'save' as const,
  };
  if (!options.overwrite) assertNotSource([dest, `${dest}.data`], source, fix);
  const mode = options.externalData ?? 'auto';
  const threshold = options.sizeThreshold ?? 1024;
  const limit = options.maxInlineBytes ?? PROTOBUF_LIMIT - 16 * 2 ** 20;
  const proto = model.inlined();
  let total = 0;
  forEachTensor(proto, (t) => {
    total += t.rawData.byteLength;
  });
  const external = mode === 'always' || (mode === 'auto' && (model.hasExternalData || total > limit));
  if (!external) {
    if (total > limit)
      throw new ModelSaveError(file, `its tensors hold ${total} bytes, beyond protobuf's 2 GiB limit`, {
        hint: "Save with { externalData: 'auto' } to write the tensors to a .data file beside the model.",
      });
    await writeFileSet([{ path: dest, data: toBinary(ModelProtoSchema, proto) }], { userPath: file, base: path.basename(dest) });
    return { modelPath: dest, dataPath: undefined };
  }
  const dataName = `${path.basename(dest)}.data`;
  const dataPath = path.join(path.dirname(dest), dataName);
  if (
    model.origin.source !== '<bytes>' &&
    model.origin.baseDir &&
    samePath(dataPath, path.join(model.origin.baseDir, dataName)) &&
    samePath(dest, model.origin.source)
  )
    throw new ModelSaveError(file, 'its data file would replace the source model data', { hint: 'Choose another path.' });
  // Tensors that were external in the source stay external, whatever their size.
  const wasExternal: boolean[] = [];
  forEachTensor(model.proto, (t) => {
    wasExternal.push(model.externalBytes(t) !== undefined);
  });
  const chunks: Uint8Array[] = [];
  let offset = 0;
  let index = 0;
  forEachTensor(proto, (t: TensorProto) => {
    const n = t.rawData.byteLength;
    const keep = wasExternal[index++] === true;
    if (n === 0 || (n < threshold && !keep)) return;
    // Keep each tensor 4 KiB-aligned so that readers can memory-map it, as onnx's own saver does.
    const pad = (4096 - (offset % 4096)) % 4096;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(t.rawData);
    t.externalData = [
      create(StringStringEntryProtoSchema, { key: 'location', value: dataName }),
      create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
      create(StringStringEntryProtoSchema, { key: 'length', value: String(n) }),
    ];
    t.dataLocation = TensorProto_DataLocation.EXTERNAL;
    t.rawData = new Uint8Array();
    offset += n;
  });
  const data = Buffer.concat(chunks);
  await writeFileSet(
    [
      { path: dataPath, data },
      { path: dest, data: toBinary(ModelProtoSchema, proto) },
    ],
    { userPath: file, base: path.basename(dest) },
  );
  return { modelPath: dest, dataPath };
}
