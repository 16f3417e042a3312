import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Feeds } from '@quantsim/core';
import { readNpy } from '@quantsim/data';
import { z } from 'zod';
import { QueueError } from './queue-error.js';

/**
 * Calibration data every worker reads itself, by index ranges, instead of receiving it in jobs:
 * - `npyFolder`: one `.npy` file per sample, in name order, for single-input models;
 * - `manifest`: a JSON file `{ "samples": [{ "<input name>": "<file>.npy", … }, …] }`, paths
 *   relative to the manifest's folder, for any number of inputs.
 *
 * The path must be the same on every machine (shared storage) and inside the folders each
 * worker was started with (`--data`).
 */
export type DataSource = { readonly npyFolder: string } | { readonly manifest: string };

const manifestSchema = z.strictObject({
  samples: z.array(z.record(z.string().min(1), z.string().min(1))).min(1),
});

/** Whether `data` is a {@link DataSource} rather than in-memory feeds. */
export function isDataSource(data: unknown): data is DataSource {
  return (
    typeof data === 'object' &&
    data !== null &&
    !Array.isArray(data) &&
    (typeof (data as { npyFolder?: unknown }).npyFolder === 'string' ||
      typeof (data as { manifest?: unknown }).manifest === 'string')
  );
}

/** The worker option that allows a kind of folder. */
function optionOf(what: 'model' | 'data' | 'module'): string {
  return what === 'model' ? 'models' : what === 'module' ? 'modules' : 'data';
}

/** Folders a worker may read, resolved once (symbolic links followed). */
export class AllowedFolders {
  readonly #roots: readonly string[];
  readonly #what: 'model' | 'data' | 'module';

  constructor(folders: readonly string[], what: 'model' | 'data' | 'module') {
    this.#what = what;
    this.#roots = folders.map((f) => {
      try {
        return realpathSync(path.resolve(f));
      } catch {
        throw new QueueError(`The ${what} folder ${f} does not exist.`, {
          hint: `Check the worker's --${optionOf(what)} option.`,
        });
      }
    });
  }

  /**
   * The real path of `file` when it lies inside one of the folders.
   * @throws QueueError when it lies outside (after following links) or does not exist.
   */
  check(file: string): string {
    let real: string;
    try {
      real = realpathSync(path.resolve(file));
    } catch {
      throw new QueueError(`The job names ${this.#what} path ${file}, which does not exist on this worker.`, {
        hint: 'Data sources and model paths must be the same on every machine (shared storage).',
      });
    }
    const inside = this.#roots.some((root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
    if (!inside)
      throw new QueueError(
        `The job names ${this.#what} path ${file}, outside the folders this worker may read (${this.#roots.join(', ') || 'none'}).`,
        {
          hint: `Start the worker with --${optionOf(this.#what)} <folder> for that folder, or put the files inside one.`,
        },
      );
    return real;
  }
}

/** The `.npy` files of a folder, in name order. */
export function npyFiles(folder: string): string[] {
  const names = readdirSync(folder)
    .filter((n) => n.endsWith('.npy'))
    .sort();
  return names.map((n) => path.join(folder, n));
}

/** Reads and validates a manifest; returns each sample's files by input, resolved. */
export function readManifest(file: string): Record<string, string>[] {
  let parsed: z.infer<typeof manifestSchema>;
  try {
    parsed = manifestSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new QueueError(`The manifest ${file} is not valid: ${(error as Error).message}`, {
      hint: 'Write it as { "samples": [{ "<input name>": "<file>.npy" }, …] }, paths relative to the manifest.',
    });
  }
  const dir = path.dirname(file);
  return parsed.samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, path.resolve(dir, v)])));
}

/** How many samples a data source holds (read by the coordinator). */
export function countSamples(source: DataSource): number {
  if ('npyFolder' in source) {
    if (!statSync(source.npyFolder, { throwIfNoEntry: false })?.isDirectory())
      throw new QueueError(`The data folder ${source.npyFolder} does not exist.`, { hint: 'Check the npyFolder path.' });
    return npyFiles(source.npyFolder).length;
  }
  return readManifest(source.manifest).length;
}

/**
 * Reads samples [start, end) of a data source on a worker, checking every path (the folder or
 * manifest, and each file, links followed) against the worker's allowed folders first.
 */
export function* readShard(
  data: { kind: 'npy-folder' | 'manifest'; path: string; start: number; end: number },
  inputs: readonly string[],
  allowed: AllowedFolders,
): Generator<Feeds> {
  const where = allowed.check(data.path);
  let samples: Record<string, string>[];
  if (data.kind === 'npy-folder') {
    if (inputs.length !== 1)
      throw new QueueError(`A folder of .npy files feeds single-input models; this one has inputs ${inputs.join(', ')}.`, {
        hint: 'Use a manifest that names a file per input.',
      });
    samples = npyFiles(where).map((f) => ({ [inputs[0] as string]: f }));
  } else samples = readManifest(where);
  if (data.end > samples.length)
    throw new QueueError(
      `The job asks for samples ${data.start}–${data.end - 1} of ${data.path}, which holds ${samples.length}.`,
      {
        hint: 'The data changed after the run started; start a new run.',
      },
    );
  for (let i = data.start; i < data.end; i++) {
    const feeds: Record<string, Feeds[string]> = {};
    for (const [input, file] of Object.entries(samples[i] as Record<string, string>)) {
      const array = readNpy(allowed.check(file));
      feeds[input] = { type: array.dtype, data: array.data, dims: array.shape };
    }
    yield feeds;
  }
}
