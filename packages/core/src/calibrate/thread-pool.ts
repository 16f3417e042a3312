import os from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { CalibrateOptions, CalibrationStats } from '../contracts/calibration.js';
import { CalibrationError } from '../errors/calibration-error.js';
import { FeedError } from '../errors/feed-error.js';
import { describeValue, InvalidArgumentError, messageWithoutHint, type QuantsimErrorCode } from '../errors/quantsim-error.js';
import type { GraphView } from '../graph/graph-view.js';
import { mergeCalibrationStats } from './collect.js';
import { type CalibrationData, checkFeeds, type FeedsLike, iterateData } from './feeds.js';
import type { StatisticsJob } from './statistics-job.js';
import type { ThreadMessage, ThreadReply, ThreadResult, ThreadTask, ThreadWorkerData } from './thread-protocol.js';
import { fitWorkers, type ThreadPoolReport, workerCost } from './worker-memory.js';

/** Options of calibration on worker threads. */
export interface ThreadCalibrateOptions extends CalibrateOptions {
  /**
   * Worker threads, each with its own backend session, over which the samples are shared; the
   * merged statistics, and so the encodings, are bit for bit those of a one-thread run. `'auto'`:
   * one per core. Either way capped so that the workers fit in free memory (the first worker's
   * cost is measured), with a warning when it caps. 1 or absent: calibrate in this thread.
   */
  readonly workers?: number | 'auto';
  /** Called once the number of threads is settled (for logs and benchmarks). */
  readonly onWorkers?: (report: ThreadPoolReport) => void;
}

/** The number of threads `workers` asks for, checked. */
export function requestedWorkers(workers: number | 'auto' | undefined, where = 'calibrate()'): number {
  if (workers === undefined) return 1;
  if (workers === 'auto') return Math.max(1, os.availableParallelism());
  if (!Number.isInteger(workers) || workers < 1)
    throw new InvalidArgumentError(
      `${where}: workers must be a positive integer or 'auto', received ${describeValue(workers)}.`,
      {
        hint: "For example { workers: 4 }, or { workers: 'auto' } for one per core.",
      },
    );
  return workers;
}

/**
 * Gathers statistics on `requested` worker threads (a piscina pool), each with its own session
 * of `job`'s model. This thread reads the data, checks each sample against `graph` and hands
 * samples to whichever worker asks next; the workers' statistics are merged, which is exact, so
 * the result does not depend on which worker got which sample. `workerModule` is the URL of the
 * threads' entry (the builder's, which makes the backend from its recipe and runs the job).
 */
export async function collectStatsOnThreads(
  job: StatisticsJob,
  graph: GraphView,
  data: CalibrationData,
  requested: number,
  options: ThreadCalibrateOptions,
  warn: (message: string) => void,
  workerModule: string,
): Promise<CalibrationStats> {
  if (!job.backend.recipe)
    throw new InvalidArgumentError(
      `calibrate({ workers: ${requested} }): backend '${job.backend.name}' has no recipe, so worker threads cannot make it.`,
      { hint: 'Give the backend a `recipe` (module, exportName, options), or calibrate without `workers`.' },
    );
  const limit = options.samples ?? Number.POSITIVE_INFINITY;
  const total = Array.isArray(data) ? Math.min(data.length, limit) : Number.isFinite(limit) ? limit : undefined;
  const source = iterateData(data)[Symbol.asyncIterator]();
  let taken = 0;
  let done = 0;
  let failure: unknown;
  let chain: Promise<unknown> = Promise.resolve();

  // The data is read in order, one sample at a time, whoever asks.
  const nextSample = (): Promise<ThreadReply> => {
    const reply = chain.then(async (): Promise<ThreadReply> => {
      if (failure !== undefined || taken >= limit || options.signal?.aborted) return { type: 'end' };
      const item = await source.next();
      if (item.done) return { type: 'end' };
      const index = taken++;
      return { type: 'sample', index, feeds: checkFeeds(item.value as FeedsLike, graph, `calibration sample ${index}`) };
    });
    chain = reply.catch(() => undefined);
    return reply.catch((error: unknown) => {
      failure ??= error;
      return { type: 'end' };
    });
  };

  const model = new SharedArrayBuffer(job.model.byteLength);
  new Uint8Array(model).set(job.model);
  const workerData: ThreadWorkerData = {
    job: { requests: job.requests, backend: job.backend, nonFinite: job.nonFinite },
    model,
    intraOpThreads: Math.max(1, Math.floor(os.availableParallelism() / requested)),
  };
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Piscina({
    filename: workerModule,
    workerData,
    minThreads: 1,
    maxThreads: requested,
    idleTimeout: 1000,
    // From sources, threads resolve workspace packages to their sources as this process does.
    execArgv: fromSource ? ['--conditions=@quantsim/source'] : [],
  });

  let firstDone: () => void = () => undefined;
  const first = new Promise<void>((resolve) => {
    firstDone = resolve;
  });
  const start = (): Promise<ThreadResult> => {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: ThreadMessage) => {
      if (m.type === 'done') {
        done++;
        if (done === 1) firstDone();
        options.onProgress?.({ done, total });
      } else
        void nextSample().then((reply) => {
          try {
            port1.postMessage(reply);
          } catch {
            // The thread has gone; its task's result says why.
          }
        });
    });
    const task: ThreadTask = { port: port2 };
    return (pool.run(task, { transferList: [port2 as unknown as MessagePort] }) as Promise<ThreadResult>).finally(() =>
      port1.close(),
    );
  };

  const rssBefore = process.memoryUsage.rss();
  try {
    const tasks: Promise<ThreadResult>[] = [start()];
    // Measure what one worker costs once it has run a sample (session and arenas allocated),
    // then start as many more as free memory allows.
    await Promise.race([first, tasks[0]]);
    const report = fitWorkers(requested, workerCost(rssBefore), `calibrate({ workers: ${requested} })`, warn);
    const used = report.used;
    for (let i = 1; i < used; i++) tasks.push(start());
    options.onWorkers?.(report);
    const results = await Promise.all(tasks);
    if (failure !== undefined) throw failure;
    const errors = results.flatMap((r) => ('error' in r ? [r.error] : []));
    if (errors[0]) throw threadError(errors[0]);
    if (options.signal?.aborted)
      throw new CalibrationError('ABORTED', `Calibration was aborted after ${done} samples; no encodings were computed.`);
    const stats = results.flatMap((r) => ('stats' in r && r.stats.samples > 0 ? [r.stats] : []));
    if (stats.length === 0)
      throw new CalibrationError(
        'CALIBRATION',
        'Calibration received no samples.',
        'Pass at least one feed, for example [{ x: { data, dims } }].',
      );
    return stats.reduce(mergeCalibrationStats);
  } finally {
    await source.return?.(undefined);
    await pool.destroy();
  }
}

/** A worker's error, rebuilt here with the sample's index in the whole data. */
function threadError(e: Extract<ThreadResult, { error: unknown }>['error']): Error {
  const message = messageWithoutHint(e.message, e.hint);
  const renumbered = e.index >= 0 ? message.replace(/calibration sample \d+/, `calibration sample ${e.index}`) : message;
  const code = e.code as QuantsimErrorCode | undefined;
  if (code === 'NON_FINITE' || code === 'CALIBRATION' || code === 'ABORTED')
    return new CalibrationError(code, renumbered, e.hint);
  if (code === 'INVALID_ARGUMENT') return new FeedError(renumbered, e.hint ?? '');
  return new CalibrationError('CALIBRATION', `A calibration worker thread failed: ${renumbered}`, e.hint);
}
