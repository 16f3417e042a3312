import type { Backend, BackendRecipe, BackendSession, SessionOptions } from '../contracts/backend.js';
import type { CalibrateOptions, CalibrationStats } from '../contracts/calibration.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import { loadModel } from '../model/load.js';
import type { Model } from '../model/model.js';
import type { PlannedModel } from '../plan/prepared-model.js';
import { collectStats } from './collect.js';
import type { CalibrationData } from './feeds.js';
import type { TensorRequest } from './statistics-graph.js';

/**
 * Everything a statistics pass needs, as plain data: what a worker thread or a worker process on
 * another machine receives instead of the builder (whose selectors may hold functions and whose
 * plugins are code). Make one with `builder.statisticsJob()`; run it with
 * {@link openStatisticsJob}. The statistics it returns merge with `mergeCalibrationStats` and
 * turn into encodings with `builder.fromStats`, exactly as a single-process run would.
 */
export interface StatisticsJob {
  /** The prepared model (BatchNorms folded) as ONNX bytes, external data inlined. */
  readonly model: Uint8Array;
  /** The tensors to gather statistics of, and which need histograms (from the plan and its schemes). */
  readonly requests: readonly TensorRequest[];
  /** The backend by name, and how to make it again in a worker thread when it says. */
  readonly backend: { readonly name: string; readonly recipe?: BackendRecipe };
  /** What to do with NaN and infinite activations (see {@link CalibrateOptions.nonFinite}). */
  readonly nonFinite: 'error' | 'ignore';
  /**
   * How many of the first calibration samples the post-training steps (bias correction, on by default;
   * `.seqMse()`) run on: pass them to `builder.fromStats(stats, samples)`. 0 when none run;
   * absent in jobs rebuilt by workers, which only gather statistics.
   */
  readonly postTrainingSamples?: number;
}

/** Options of {@link StatisticsJobRunner.run}. */
export interface StatisticsJobRunOptions {
  readonly onProgress?: CalibrateOptions['onProgress'];
  readonly signal?: AbortSignal;
}

/** A statistics job with its model loaded, ready to run over shards of calibration data. */
export interface StatisticsJobRunner {
  /** Gathers the statistics of one shard; one backend session per call. */
  run(data: CalibrationData, options?: StatisticsJobRunOptions): Promise<CalibrationStats>;
}

/**
 * Loads a {@link StatisticsJob}'s model once, for running it over one or more shards on
 * `backend` (in a worker: the backend made from the job's recipe, or found by its name).
 * `sessionOptions` are added to every session the job opens (for example `intraOpThreads`
 * when several workers share the cores).
 *
 * ### Examples
 * ```ts
 * const runner = await openStatisticsJob(job, new CpuBackend());
 * const stats = await runner.run(samples.slice(0, 100));
 * ```
 */
export async function openStatisticsJob(
  job: StatisticsJob,
  backend: Backend,
  sessionOptions: Omit<SessionOptions, 'mode'> = {},
): Promise<StatisticsJobRunner> {
  if (!(job?.model instanceof Uint8Array) || !Array.isArray(job.requests))
    throw new InvalidArgumentError(
      `openStatisticsJob takes a job made by builder.statisticsJob(), received ${describeValue(job)}.`,
    );
  const model: Model = await loadModel(job.model);
  // collectStats reads the prepared model and its graph, nothing else of the planned model.
  const resolved = { prepared: { model, graph: model.graph } } as unknown as PlannedModel;
  const sessions = Object.keys(sessionOptions).length === 0 ? backend : withSessionOptions(backend, sessionOptions);
  return {
    // Calibration threads already share the cores: each bins its own histograms.
    run: (data, options = {}) =>
      collectStats(resolved, sessions, job.requests, data, { ...options, nonFinite: job.nonFinite }, { offloadBinning: false }),
  };
}

function withSessionOptions(backend: Backend, extra: Omit<SessionOptions, 'mode'>): Backend {
  return {
    name: backend.name,
    capabilities: backend.capabilities,
    probe: () => backend.probe(),
    createSession: (model: Uint8Array, options: SessionOptions): Promise<BackendSession> =>
      backend.createSession(model, { ...extra, ...options }),
  };
}
