import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from './data-source.js';
import { keys, NAME, type ShardJob } from './job.js';
import { startWorkerProcess, type WorkerProcess } from './local-workers.js';
import { QueueError } from './queue-error.js';
import type { RedisTls } from './redis-connection.js';
import { RESULT_TTL_SECONDS } from './worker.js';

/** How often a coordinator looks at Redis for finished jobs, in ms. */
export const POLL_MS = 200;

/** What every run on the queue (a calibration, an analysis, an AMP search) is told about Redis, the queue and local workers. */
export interface QueueRunOptions {
  /** `redis://[:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  readonly redis: string;
  /** A CA or client certificate for a `rediss://` URL (passed on to local workers too). */
  readonly tls?: RedisTls;
  /** The queue's name (default `quantsim`); workers must be started on the same one. */
  readonly queue?: string;
  /** Start this many worker processes on this machine (stopped at the end); otherwise wait for workers elsewhere. */
  readonly workers?: number;
  /** Tries per job before the run fails naming it (default 3). */
  readonly attempts?: number;
  /**
   * A folder every worker can read (shared storage, inside their `--models`): the model is
   * written there as `<sha256>.onnx` and jobs name that path. Without it the model goes through
   * Redis once per run.
   */
  readonly modelFolder?: string;
  /** Give up after this many ms without the run finishing (default: wait for ever). */
  readonly timeout?: number;
  /** Settings of the local workers (`workers: n`), for tests: BullMQ lock and stalled-check periods in ms. */
  readonly localWorkers?: { readonly lockDuration?: number; readonly stalledInterval?: number };
}

/** The queue's name and the run's id, checked (they become parts of Redis keys). */
export function runNames(caller: string, options: { queue?: string; runId?: string }): { queueName: string; runId: string } {
  const queueName = options.queue ?? 'quantsim';
  const runId = options.runId ?? randomUUID();
  for (const [what, name] of [
    ['queue', queueName],
    ['runId', runId],
  ] as const)
    if (!NAME.test(name))
      throw new QueueError(`${caller}: ${what} '${name}' must be 1–100 letters, digits, '.', '_' or '-'.`, {
        hint: 'It becomes part of Redis keys.',
      });
  return { queueName, runId };
}

/** @throws QueueError unless `workers` is absent or a non-negative integer. */
export function checkWorkerCount(caller: string, workers: number | undefined): void {
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0))
    throw new QueueError(`${caller}: workers must be a non-negative integer, received ${workers}.`, {
      hint: 'Pass the number of worker processes to start on this machine, or leave it out to use workers elsewhere.',
    });
}

/** The folder a data source's files are in: what a local worker must be allowed to read. */
export function dataFolderOf(data: DataSource): string {
  return path.resolve('npyFolder' in data ? data.npyFolder : path.dirname(data.manifest));
}

/** Puts the model where workers find it: Redis (once per model), or the shared folder. */
export async function shareModel(
  redis: Redis,
  queue: string,
  bytes: Uint8Array,
  sha256: string,
  folder: string | undefined,
): Promise<ShardJob['model']> {
  if (folder !== undefined) {
    const file = path.resolve(folder, `${sha256}.onnx`);
    if (!existsSync(file)) {
      mkdirSync(folder, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
    }
    return { kind: 'path', path: file, sha256 };
  }
  const key = keys.model(queue, sha256);
  // NX: a second run of the same model only refreshes the expiry.
  const set = await redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'EX', RESULT_TTL_SECONDS, 'NX');
  if (set === null) await redis.expire(key, RESULT_TTL_SECONDS);
  return { kind: 'redis', sha256 };
}

/** Adds a job unless it is already waiting or running (a resumed run); a failed one is replaced. */
export async function enqueue(queue: Queue, name: string, id: string, payload: object, attempts: number): Promise<void> {
  const existing = await queue.getJob(id);
  if (existing) {
    const state = await existing.getState();
    if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized') return;
    await existing.remove();
  }
  await queue.add(name, payload, {
    jobId: id,
    attempts,
    backoff: { type: 'fixed', delay: 500 },
    removeOnComplete: true,
    removeOnFail: { age: RESULT_TTL_SECONDS },
  });
}

/**
 * Starts `options.workers` worker processes on this machine (none when it is absent or 0), each
 * allowed the given folders and the model folder, with a fair share of the cores; pushes them
 * onto `into` as they start, so that the caller stops them even when one fails to start.
 */
export async function startLocalWorkers(
  options: QueueRunOptions,
  queueName: string,
  folders: { readonly dataFolders?: readonly string[]; readonly moduleFolders?: readonly string[] },
  into: WorkerProcess[],
): Promise<void> {
  if (!options.workers) return;
  const threads = Math.max(1, Math.floor(os.availableParallelism() / options.workers));
  const started = await Promise.allSettled(
    Array.from({ length: options.workers }, () =>
      startWorkerProcess({
        redis: options.redis,
        ...(options.tls ? { tls: options.tls } : {}),
        queue: queueName,
        dataFolders: folders.dataFolders ?? [],
        modelFolders: options.modelFolder ? [options.modelFolder] : [],
        moduleFolders: folders.moduleFolders ?? [],
        threads,
        ...options.localWorkers,
      }),
    ),
  );
  for (const r of started) if (r.status === 'fulfilled') into.push(r.value);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** @throws QueueError when every local worker has exited (nothing would ever finish the run). */
export function checkLocalWorkers(runId: string, local: readonly WorkerProcess[]): void {
  if (local.length > 0 && local.every((w) => w.child.exitCode !== null || w.child.signalCode !== null))
    throw new QueueError(`Run ${runId}: every local worker exited. Last output: ${local[0]?.output().trim().slice(-2000)}`);
}
