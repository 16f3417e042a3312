import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Dim, Feeds, GraphView, TensorData } from '@quantsim/core';
import { DataInputError } from '../errors/data-input-error.js';
import { type NpyHeader, readNpy, readNpyHeader } from './npy-format.js';

/** Calibration or evaluation samples read from `.npy` files, checked against the model's inputs. */
export interface NpySamples {
  /** How many samples there are. */
  readonly count: number;
  /** Where they come from, for messages: `calib/ (12 files)`. */
  readonly description: string;
  /** Reads the samples lazily, one at a time, so large sets need not fit in memory. */
  samples(limit?: number): Generator<Feeds>;
}

/** A model input as the checks need it. */
interface InputSpec {
  readonly name: string;
  readonly dtype: string | undefined;
  readonly shape: readonly Dim[] | undefined;
}

/** How one file maps to samples: the whole array is one sample, or each slice along axis 0 is. */
interface FileSlices {
  readonly file: string;
  readonly input: InputSpec;
  readonly header: NpyHeader;
  /** Samples in the file. */
  readonly count: number;
  /** The dims each sample is fed with. */
  readonly sampleDims: readonly number[];
}

/**
 * Opens calibration (or evaluation) data for a model from a path, such as the CLI's `--calib`:
 *
 * - one `.npy` file (single-input models): a leading batch dimension holds the samples: an array
 *   one rank above the input gives one sample per slice; one of the input's rank is cut along
 *   axis 0 into batches of the model's batch size (1 when it is free);
 * - a folder of `.npy` files (single-input models): one sample per file, in name order;
 * - a folder with one sub-folder per input name: sample i is the i-th file of each.
 *
 * Every header is read and checked (element type, rank, fixed dimensions) before any data is,
 * and errors name the file and the input that disagree. `modelName` and `option` (the CLI option
 * or argument that gave the path) only appear in messages.
 * @throws DataInputError
 */
export function openNpySamples(where: string, graph: GraphView, modelName: string, option = '--calib'): NpySamples {
  const inputs: InputSpec[] = graph.inputs.map((name) => {
    const t = graph.tensor(name);
    return { name, dtype: t?.dtype, shape: t?.shape };
  });
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(where);
  } catch {
    throw new DataInputError(where, 'no such file or folder', `Give ${option} a .npy file or a folder of .npy files.`);
  }
  const names = inputs.map((i) => `'${i.name}'`).join(', ');
  if (stat.isFile()) {
    const input = single(inputs, where, modelName, option);
    const slices = fileSlices(where, input, modelName, true);
    return {
      count: slices.count,
      description: `${where} (${slices.count} sample${slices.count === 1 ? '' : 's'})`,
      *samples(limit = Number.POSITIVE_INFINITY) {
        const array = readNpy(where);
        const stride = slices.sampleDims.reduce((a, b) => a * b, 1);
        for (let i = 0; i < Math.min(slices.count, limit); i++)
          yield {
            [input.name]: {
              type: array.dtype,
              data: array.data.subarray(i * stride, (i + 1) * stride),
              dims: slices.sampleDims,
            } as TensorData,
          };
      },
    };
  }
  const entries = readdirSync(where, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const perInput = new Map<string, string[]>();
  if (folders.length > 0) {
    for (const folder of folders)
      if (!inputs.some((i) => i.name === folder))
        throw new DataInputError(
          path.join(where, folder),
          `is not named after an input of ${modelName}`,
          `Sub-folders of ${option} hold one input each and are named after it: ${names}.`,
        );
    for (const input of inputs) {
      if (!folders.includes(input.name))
        throw new DataInputError(
          where,
          `has no sub-folder for input '${input.name}' of ${modelName}`,
          `Add ${path.join(where, input.name)}/ with one .npy file per sample.`,
        );
      perInput.set(input.name, npyFiles(path.join(where, input.name), option));
    }
  } else {
    const input = single(inputs, where, modelName, option);
    perInput.set(input.name, npyFiles(where, option));
  }
  const counts = [...perInput].map(([name, files]) => ({ name, count: files.length }));
  const count = counts[0]?.count ?? 0;
  const odd = counts.find((c) => c.count !== count);
  if (odd)
    throw new DataInputError(
      where,
      `has ${counts[0]?.count} files for input '${counts[0]?.name}' but ${odd.count} for '${odd.name}'`,
      'Give every input the same number of samples, one file per sample.',
    );
  const checked = new Map<string, FileSlices[]>();
  for (const input of inputs)
    checked.set(
      input.name,
      (perInput.get(input.name) ?? []).map((f) => fileSlices(f, input, modelName, false)),
    );
  return {
    count,
    description: `${where} (${count} sample${count === 1 ? '' : 's'}, one per file)`,
    *samples(limit = Number.POSITIVE_INFINITY) {
      for (let i = 0; i < Math.min(count, limit); i++) {
        const feeds: Record<string, TensorData> = {};
        for (const input of inputs) {
          const slices = checked.get(input.name)?.[i];
          if (!slices) continue;
          const array = readNpy(slices.file);
          feeds[input.name] = { type: array.dtype, data: array.data, dims: slices.sampleDims };
        }
        yield feeds;
      }
    },
  };
}

function single(inputs: readonly InputSpec[], where: string, modelName: string, option: string): InputSpec {
  const [only] = inputs;
  if (only && inputs.length === 1) return only;
  throw new DataInputError(
    where,
    `holds .npy files for one input, but ${modelName} has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ')})`,
    `Give ${option} a folder with one sub-folder per input, named after it, each with one .npy file per sample.`,
  );
}

function npyFiles(dir: string, option: string): string[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.npy'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => path.join(dir, f));
  if (files.length === 0)
    throw new DataInputError(dir, 'holds no .npy files', `Put one .npy file per sample in the folder given to ${option}.`);
  return files;
}

/** Reads a file's header and works out its samples, checking it against the input. */
function fileSlices(file: string, input: InputSpec, modelName: string, batched: boolean): FileSlices {
  const header = readNpyHeader(file);
  const shape = input.shape;
  const modelShape = shape
    ? `[${shape.map((d) => (typeof d === 'number' && d > 0 ? d : (d ?? '?'))).join(', ')}]`
    : 'of unknown shape';
  const disagree = (what: string, hint: string) =>
    new DataInputError(file, `${what}, but input '${input.name}' of ${modelName} is ${input.dtype ?? '?'} ${modelShape}`, hint);
  if (input.dtype && header.dtype !== input.dtype)
    throw disagree(
      `holds ${header.dtype} ('${header.descr}')`,
      `Convert it: np.save(path, a.astype(np.${input.dtype === 'bool' ? 'bool_' : input.dtype})).`,
    );
  const got = `has shape [${header.shape.join(', ')}]`;
  if (!shape) return { file, input, header, count: batched ? (header.shape[0] ?? 1) : 1, sampleDims: header.shape };
  const rank = shape.length;
  const batch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : 1;
  let count = 1;
  let dims: number[];
  if (batched && header.shape.length === rank + 1) {
    count = header.shape[0] ?? 0;
    dims = header.shape.slice(1);
  } else if (batched && header.shape.length === rank) {
    const leading = header.shape[0] ?? 0;
    if (leading % batch !== 0)
      throw disagree(`${got}: its ${leading} rows do not split into batches of ${batch}`, `Give a multiple of ${batch} samples.`);
    count = leading / batch;
    dims = [batch, ...header.shape.slice(1)];
  } else if (!batched && header.shape.length === rank) {
    dims = [...header.shape];
  } else if (!batched && header.shape.length === rank - 1 && batch === 1) {
    dims = [1, ...header.shape];
  } else {
    throw disagree(
      `${got} (rank ${header.shape.length})`,
      batched
        ? `Give an array of rank ${rank} (samples along the batch axis) or ${rank + 1} (one sample per leading index).`
        : `Give one sample of rank ${rank}${batch === 1 ? ` (or ${rank - 1}, without the batch axis)` : ''} per file.`,
    );
  }
  shape.forEach((d, i) => {
    if (typeof d === 'number' && d > 0 && dims[i] !== d)
      throw disagree(
        `${got}, whose samples have dimension ${i} = ${dims[i]} where the model fixes ${d}`,
        'Resize or reshape the data to the model input.',
      );
  });
  return { file, input, header, count, sampleDims: dims };
}
