import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { registerDefaultBackends } from '@quantsim/backends';
import {
  type Backend,
  type CalibrationData,
  createBackendContainer,
  openStatisticsJob,
  registerBackend,
  resolveBackend,
  type StatisticsJobRunner,
} from '@quantsim/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeFeeds, encodeStats } from './codecs.js';
import { AllowedFolders, readShard } from './data-source.js';
import { EVALUATE_JOB } from './evaluation-job.js';
import { evaluationJobs } from './evaluation-worker.js';
import { keys, NAME, type ShardJob, shardJobSchema } from './job.js';
import { QueueError } from './queue-error.js';
import { connectRedis, maskRedisUrl, type RedisTls } from './redis-connection.js';

/** How long shard statistics stay in Redis for a coordinator to collect or resume from. */
export const RESULT_TTL_SECONDS = 7 * 24 * 3600;

/** Options of {@link runWorker}. */
export interface RunWorkerOptions {
  /** `redis://[:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  readonly redis: string;
  /** A CA or client certificate for a `rediss://` URL. */
  readonly tls?: RedisTls;
  /** The queue to take shards from; `quantsim` when omitted. */
  readonly queue?: string;
  /** Folders this worker may read data sources from; a job naming a path elsewhere fails. */
  readonly dataFolders?: readonly string[];
  /** Folders this worker may read models from (for runs that share the model by path). */
  readonly modelFolders?: readonly string[];
  /**
   * Folders this worker may import code from: the metric modules of analyses and the `evaluate`
   * modules of AMP searches on the queue. A job naming a module elsewhere fails; none are
   * imported when this is empty.
   */
  readonly moduleFolders?: readonly string[];
  /** Jobs (shards or configurations) processed at once by this process (default 1: one session uses the cores). */
  readonly concurrency?: number;
  /** Threads inside each session; ONNX Runtime's default when omitted. */
  readonly threads?: number;
  /** BullMQ's lock duration in ms (default 30 000): a dead worker's shard is retried after it. */
  readonly lockDuration?: number;
  /** How often BullMQ looks for stalled shards, in ms (default 30 000). */
  readonly stalledInterval?: number;
  /** Backends besides the defaults (cpu, cuda, webgpu), found by the name jobs give. */
  readonly backends?: readonly Backend[];
  /** Where progress lines go (default: nowhere). */
  readonly log?: (line: string) => void;
}

/** A running worker. */
export interface QueueWorker {
  /** `host:pid`, as the worker reports it in each shard's progress. */
  readonly id: string;
  /** Finishes the shard in hand, then stops. */
  close(): Promise<void>;
}

/**
 * Takes jobs from a BullMQ queue until closed: calibration shards, whose statistics it stores in
 * Redis (the other half of `calibrateOnQueue`), and configurations of analyses and AMP searches,
 * whose scores it stores (the other half of `analyzeOnQueue` and `autoMixedPrecisionOnQueue`).
 * Every job is validated (zod) before use; models come from Redis (checked by SHA-256) or from a
 * path inside `modelFolders`, data inline or from paths inside `dataFolders`, metric and
 * `evaluate` modules only from inside `moduleFolders`. A run's switchable model, session and
 * samples are loaded once and kept for its next configurations.
 *
 * ### Examples
 * ```ts
 * const worker = await runWorker({ redis: 'redis://:secret@10.0.0.5:6379', queue: 'calib', dataFolders: ['/mnt/data'] });
 * process.on('SIGTERM', () => void worker.close());
 * ```
 *
 * @throws QueueError when Redis cannot be reached or refuses the credentials.
 */
export async function runWorker(options: RunWorkerOptions): Promise<QueueWorker> {
  const queue = options.queue ?? 'quantsim';
  if (!NAME.test(queue))
    throw new QueueError(`Queue name '${queue}' has characters Redis keys should not.`, {
      hint: 'Use letters, digits, ., _ and -.',
    });
  const data = new AllowedFolders(options.dataFolders ?? [], 'data');
  const models = new AllowedFolders(options.modelFolders ?? [], 'model');
  const modules = new AllowedFolders(options.moduleFolders ?? [], 'module');
  const redis = await connectRedis(options.redis, 'quantsim-worker', options.tls);
  const id = `${os.hostname()}:${process.pid}`;
  const log = options.log ?? (() => undefined);
  const container = registerDefaultBackends(createBackendContainer());
  for (const b of options.backends ?? []) registerBackend(container, b);
  const runners = new Map<string, Promise<StatisticsJobRunner>>();

  const runner = (job: ShardJob): Promise<StatisticsJobRunner> => {
    const key = createHash('sha256')
      .update(JSON.stringify([job.model.sha256, job.requests, job.backend, job.nonFinite]))
      .digest('hex');
    let made = runners.get(key);
    if (!made) {
      made = (async () => {
        const bytes = await modelBytes(job, redis, queue, models);
        const backend = await resolveBackend(container, job.backend);
        const sessionOptions = options.threads ? { intraOpThreads: options.threads } : {};
        const job2 = { model: bytes, requests: job.requests, backend: { name: job.backend }, nonFinite: job.nonFinite };
        return openStatisticsJob(job2, backend, sessionOptions);
      })();
      made.catch(() => runners.delete(key));
      // Keep the two latest: one run at a time is the common case.
      runners.set(key, made);
      while (runners.size > 2) runners.delete(runners.keys().next().value as string);
    }
    return made;
  };

  const evaluations = evaluationJobs({
    redis,
    queue,
    id,
    container,
    threads: options.threads,
    folders: { models, modules },
  });
  const process_ = async (job: Job): Promise<{ samples: number } | { index: number }> => {
    if (job.name === EVALUATE_JOB) return evaluations.process(job);
    const parsed = shardJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`quantsim worker ${id}: job ${job.id} is not a valid shard: ${parsed.error.message}`);
    const shard = parsed.data;
    const statsKey = keys.stats(queue, shard.runId, shard.shard);
    const samples: CalibrationData =
      shard.data.kind === 'inline'
        ? shard.data.samples.map((s, i) =>
            decodeFeeds(s, `run ${shard.runId} shard ${shard.shard} sample ${(shard.data as { first: number }).first + i}`),
          )
        : () => readShard(shard.data as Extract<ShardJob['data'], { start: number }>, shard.inputs, data);
    // Refuse a path outside the allowed folders before loading anything.
    if (shard.data.kind !== 'inline') data.check(shard.data.path);
    log(`shard ${shard.shard + 1}/${shard.shards} of run ${shard.runId}: started`);
    const stats = await (await runner(shard)).run(samples, {
      onProgress: (p) => void job.updateProgress({ worker: id, done: p.done }).catch(() => undefined),
    });
    await redis.set(statsKey, encodeStats(stats), 'EX', RESULT_TTL_SECONDS);
    log(`shard ${shard.shard + 1}/${shard.shards} of run ${shard.runId}: ${stats.samples} samples done`);
    return { samples: stats.samples };
  };

  const worker = new Worker(queue, process_, {
    connection: redis,
    concurrency: options.concurrency ?? 1,
    ...(options.lockDuration !== undefined ? { lockDuration: options.lockDuration } : {}),
    ...(options.stalledInterval !== undefined ? { stalledInterval: options.stalledInterval } : {}),
    maxStalledCount: 2,
  });
  worker.on('failed', (job, error) => log(`job ${job?.id ?? '?'} failed: ${error.message}`));
  worker.on('error', (error) => log(`worker error: ${error.message}`));
  await worker.waitUntilReady();
  log(`quantsim worker ${id} ready: queue '${queue}' on ${maskRedisUrl(options.redis)}`);
  return {
    id,
    close: async () => {
      await worker.close();
      await evaluations.close();
      redis.disconnect();
    },
  };
}

/** A job's model, from Redis or a path inside the model folders, checked against its SHA-256. */
export async function modelBytes(
  job: Pick<ShardJob, 'runId' | 'model'>,
  redis: Redis,
  queue: string,
  models: AllowedFolders,
): Promise<Uint8Array> {
  let bytes: Uint8Array | null;
  if (job.model.kind === 'redis') {
    bytes = await redis.getBuffer(keys.model(queue, job.model.sha256));
    if (!bytes)
      throw new QueueError(`Run ${job.runId}: the model ${job.model.sha256.slice(0, 12)}… is no longer in Redis.`, {
        hint: 'It expires 7 days after the run started; start the run again.',
      });
  } else bytes = await readFile(models.check(job.model.path));
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== job.model.sha256)
    throw new UnrecoverableError(`Run ${job.runId}: the model's SHA-256 is ${sha}, the job expects ${job.model.sha256}.`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
