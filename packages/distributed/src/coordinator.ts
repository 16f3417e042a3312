import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  type CalibrateOptions,
  type CalibrationData,
  type CalibrationStats,
  checkFeeds,
  type Feeds,
  iterateData,
  loadModel,
  mergeCalibrationStats,
  type QuantBuilder,
  type QuantSim,
} from '@quantsim/core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeFeeds, decodeStats, encodeFeeds } from './codecs.js';
import { AllowedFolders, countSamples, type DataSource, isDataSource, readShard } from './data-source.js';
import { keys, type ShardJob, shardJobId } from './job.js';
import type { WorkerProcess } from './local-workers.js';
import { QueueError } from './queue-error.js';
import {
  checkLocalWorkers,
  checkWorkerCount,
  dataFolderOf,
  enqueue,
  POLL_MS,
  type QueueRunOptions,
  runNames,
  shareModel,
  startLocalWorkers,
} from './queue-run.js';
import { connectRedis } from './redis-connection.js';
import { RESULT_TTL_SECONDS } from './worker.js';

/** Options of {@link calibrateOnQueue}. */
export interface QueueCalibrateOptions
  extends Pick<CalibrateOptions, 'samples' | 'nonFinite' | 'histogramStride' | 'signal'>,
    QueueRunOptions {
  /**
   * Names the run: a coordinator started again with the same id (after a crash) reuses the
   * shards already finished, whose statistics wait in Redis. Random when omitted.
   */
  readonly runId?: string;
  /** Samples per shard (one job each); default 32. */
  readonly shardSize?: number;
  /** Called as shards finish: samples finished so far, of the total. */
  readonly onProgress?: CalibrateOptions['onProgress'];
}

interface ShardPlan {
  readonly index: number;
  readonly samples: number;
  readonly data: ShardJob['data'];
}

/**
 * Calibrates on a BullMQ queue: splits the calibration data into shards, one job each, lets
 * workers (`runWorker`, the `quantsim-worker` command) gather their statistics, merges them
 * (exactly) and returns the same `QuantSim` as `builder.calibrate(data)`.
 *
 * `data` is in-memory feeds (sent with the jobs; fine for moderate sets) or a {@link DataSource}
 * that every worker reads itself. A worker that dies mid-shard leaves it to be retried by
 * another (BullMQ's stalled-job check); a shard that fails `attempts` times fails the run with
 * its number; a coordinator started again with the same `runId` resumes from the finished shards.
 *
 * ### Examples
 * ```ts
 * const sim = await calibrateOnQueue(quant('detector.onnx').scheme('tf-enhanced'), { npyFolder: '/mnt/calib' }, {
 *   redis: 'redis://:secret@10.0.0.5:6379',
 *   queue: 'calib',
 *   runId: 'detector-2026-12-01',
 * });
 * ```
 *
 * @throws QueueError when Redis is unreachable or refuses the password, a shard fails, or the timeout passes.
 */
export async function calibrateOnQueue(
  builder: QuantBuilder,
  data: CalibrationData | DataSource,
  options: QueueCalibrateOptions,
): Promise<QuantSim> {
  const { queueName, runId } = runNames('calibrateOnQueue', options);
  const shardSize = options.shardSize ?? 32;
  const attempts = options.attempts ?? 3;
  if (!Number.isInteger(shardSize) || shardSize < 1)
    throw new QueueError(`calibrateOnQueue: shardSize must be a positive integer, received ${shardSize}.`);
  checkWorkerCount('calibrateOnQueue', options.workers);

  const job = await builder.statisticsJob({ histogramStride: options.histogramStride, nonFinite: options.nonFinite });
  const graph = (await loadModel(job.model)).graph;
  const sha256 = createHash('sha256').update(job.model).digest('hex');
  const redis = await connectRedis(options.redis, 'quantsim-coordinator', options.tls);
  const queue = new Queue(queueName, { connection: redis });
  const local: WorkerProcess[] = [];
  try {
    const model = await shareModel(redis, queueName, job.model, sha256, options.modelFolder);
    const shards = await planShards(data, graph, shardSize, options.samples);
    if (shards.length === 0)
      throw new QueueError('calibrateOnQueue received no samples.', {
        hint: 'Pass at least one feed or a non-empty data source.',
      });
    await checkRun(redis, queueName, runId, shards.length, sha256);
    const total = shards.reduce((n, s) => n + s.samples, 0);
    const common = {
      version: 1 as const,
      runId,
      shards: shards.length,
      model,
      requests: job.requests.map((r) => ({ ...r })),
      backend: job.backend.name,
      nonFinite: job.nonFinite,
      inputs: [...graph.inputs],
    };
    const finished = await finishedShards(redis, queueName, runId, shards.length);
    for (const s of shards) {
      if (finished.has(s.index)) continue;
      await enqueue(queue, 'calibrate-shard', shardJobId(runId, s.index), { ...common, shard: s.index, data: s.data }, attempts);
    }
    await startLocalWorkers(options, queueName, { dataFolders: isDataSource(data) ? [dataFolderOf(data)] : [] }, local);
    await waitForShards(redis, queue, queueName, runId, shards, total, options, local);
    let merged: CalibrationStats | undefined;
    for (const s of shards) {
      const text = await redis.get(keys.stats(queueName, runId, s.index));
      if (text === null) throw new QueueError(`Run ${runId}: the statistics of shard ${s.index} vanished from Redis.`);
      const stats = decodeStats(text);
      merged = merged ? mergeCalibrationStats(merged, stats) : stats;
    }
    // Post-training steps (`.biasCorrection()`, `.seqMse()`) run here, on the first samples.
    const firstSamples = leadingSamples(data, shards, graph.inputs, job.postTrainingSamples ?? 0);
    const sim = await builder.fromStats(merged as CalibrationStats, firstSamples);
    await redis.del(keys.run(queueName, runId), ...shards.map((s) => keys.stats(queueName, runId, s.index)));
    return sim;
  } finally {
    await Promise.all(local.map((w) => w.stop()));
    await queue.close();
    redis.disconnect();
  }
}

/**
 * The first `count` samples, for the post-training steps that run in this process: decoded from
 * the inline shards (data given as an iterable may be readable only once), or read from the data
 * source (the coordinator reads its own data; workers check their allowed folders).
 */
function leadingSamples(
  data: CalibrationData | DataSource,
  shards: readonly ShardPlan[],
  inputs: readonly string[],
  count: number,
): Feeds[] {
  const samples: Feeds[] = [];
  if (count === 0) return samples;
  if (isDataSource(data)) {
    const kind = 'npyFolder' in data ? ('npy-folder' as const) : ('manifest' as const);
    const where = path.resolve('npyFolder' in data ? data.npyFolder : data.manifest);
    const end = Math.min(count, countSamples(data));
    const allowed = new AllowedFolders([path.parse(where).root], 'data');
    for (const feeds of readShard({ kind, path: where, start: 0, end }, inputs, allowed)) samples.push(feeds);
    return samples;
  }
  for (const shard of shards) {
    if (shard.data.kind !== 'inline') continue;
    for (const encoded of shard.data.samples) {
      if (samples.length >= count) return samples;
      samples.push(decodeFeeds(encoded, `calibration sample ${samples.length}`));
    }
  }
  return samples;
}

/** Cuts the data into shards of `size` samples: inline feeds encoded into the jobs, or index ranges. */
async function planShards(
  data: CalibrationData | DataSource,
  graph: Parameters<typeof checkFeeds>[1],
  size: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<ShardPlan[]> {
  const shards: ShardPlan[] = [];
  if (isDataSource(data)) {
    const count = Math.min(countSamples(data), limit);
    const kind = 'npyFolder' in data ? ('npy-folder' as const) : ('manifest' as const);
    const where = path.resolve('npyFolder' in data ? data.npyFolder : data.manifest);
    for (let start = 0, index = 0; start < count; start += size, index++) {
      const end = Math.min(count, start + size);
      shards.push({ index, samples: end - start, data: { kind, path: where, start, end } });
    }
    return shards;
  }
  let batch: ReturnType<typeof encodeFeeds>[] = [];
  let taken = 0;
  const flush = () => {
    if (batch.length === 0) return;
    shards.push({
      index: shards.length,
      samples: batch.length,
      data: { kind: 'inline', first: taken - batch.length, samples: batch },
    });
    batch = [];
  };
  for await (const item of iterateData(data)) {
    if (taken >= limit) break;
    batch.push(encodeFeeds(checkFeeds(item, graph, `calibration sample ${taken}`)));
    taken++;
    if (batch.length === size) flush();
  }
  flush();
  return shards;
}

/** Records the run's shape; a resumed run must cut the same shards of the same model. */
async function checkRun(redis: Redis, queue: string, runId: string, shards: number, sha256: string): Promise<void> {
  const key = keys.run(queue, runId);
  const mine = JSON.stringify({ shards, sha256 });
  const set = await redis.set(key, mine, 'EX', RESULT_TTL_SECONDS, 'NX');
  if (set !== null) return;
  const theirs = await redis.get(key);
  if (theirs !== null && theirs !== mine)
    throw new QueueError(`Run ${runId} exists with other shards or another model (${theirs}; this call: ${mine}).`, {
      hint: 'Resume with the same builder, data and shardSize, or pick a new runId.',
    });
}

async function finishedShards(redis: Redis, queue: string, runId: string, count: number): Promise<Set<number>> {
  const pipeline = redis.pipeline();
  for (let i = 0; i < count; i++) pipeline.exists(keys.stats(queue, runId, i));
  const results = (await pipeline.exec()) ?? [];
  return new Set(results.flatMap(([, n], i) => (n === 1 ? [i] : [])));
}

async function waitForShards(
  redis: Redis,
  queue: Queue,
  queueName: string,
  runId: string,
  shards: readonly ShardPlan[],
  total: number,
  options: QueueCalibrateOptions,
  local: readonly WorkerProcess[],
): Promise<void> {
  const deadline = options.timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeout;
  let reported = -1;
  for (;;) {
    const finished = await finishedShards(redis, queueName, runId, shards.length);
    const done = shards.reduce((n, s) => n + (finished.has(s.index) ? s.samples : 0), 0);
    if (done !== reported) {
      reported = done;
      options.onProgress?.({ done, total });
    }
    if (finished.size === shards.length) return;
    for (const s of shards) {
      if (finished.has(s.index)) continue;
      const job = await queue.getJob(shardJobId(runId, s.index));
      if (job && (await job.getState()) === 'failed')
        throw new QueueError(
          `Run ${runId}: shard ${s.index} (samples ${firstSample(s)}–${firstSample(s) + s.samples - 1}) failed ${job.attemptsMade} times; last error: ${job.failedReason}`,
          {
            shard: { runId, index: s.index },
            hint: 'Fix the cause, then run again with the same runId to resume from the finished shards.',
          },
        );
    }
    checkLocalWorkers(runId, local);
    if (options.signal?.aborted) throw new QueueError(`Run ${runId} was aborted; finished shards stay in Redis for a resume.`);
    if (Date.now() > deadline)
      throw new QueueError(
        `Run ${runId}: ${shards.length - finished.size} of ${shards.length} shards not finished after ${options.timeout} ms.`,
        {
          hint: 'Start workers on the same queue (quantsim-worker --redis URL --queue NAME), then run again with the same runId.',
        },
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function firstSample(s: ShardPlan): number {
  return s.data.kind === 'inline' ? s.data.first : s.data.start;
}
