import { createHash } from 'node:crypto';
import {
  type AmpRunner,
  type OutputsOf,
  outputSqnrScorer,
  type SampleMetric,
  type Scorer,
  sampleMetricScorer,
  sampleOutputs,
  stackedOutputs,
} from '@quantsim/analyze';
import {
  type BackendSession,
  checkFeeds,
  type createBackendContainer,
  type Feeds,
  type FeedsLike,
  type GraphView,
  loadModel,
  resolveBackend,
  type TensorData,
  type TensorMap,
} from '@quantsim/core';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeFeeds, toJsonNumber } from './codecs.js';
import type { AllowedFolders } from './data-source.js';
import { type EvaluationJob, type EvaluationRun, evaluationJobSchema, evaluationRunSchema } from './evaluation-job.js';
import { keys } from './job.js';
import { exportedFunction, importModule } from './module-import.js';
import { QueueError } from './queue-error.js';
import { modelBytes, RESULT_TTL_SECONDS } from './worker.js';

/** What a worker needs to evaluate jobs, from `runWorker`. */
export interface EvaluationWorkerContext {
  readonly redis: Redis;
  readonly queue: string;
  /** `host:pid`, reported in each job's progress. */
  readonly id: string;
  readonly container: ReturnType<typeof createBackendContainer>;
  readonly threads: number | undefined;
  readonly folders: { readonly models: AllowedFolders; readonly modules: AllowedFolders };
}

/** One run, loaded once: its session of the switchable model and how a configuration becomes a score. */
interface LoadedRun {
  readonly run: EvaluationRun;
  readonly session: BackendSession;
  /** The score of one configuration, given the switch inputs and a progress callback per run. */
  score(switches: Readonly<Record<string, TensorData>>, onRun: () => void): Promise<number>;
}

/**
 * The evaluation side of a worker: validates a configuration job, loads its run once (the
 * model, a session, the samples, the scorer; cached by the SHA-256 of the run's context, which
 * each job names), scores the setting and stores the score in the run's hash in Redis. A run
 * whose context is gone from Redis, or is another than the job's, fails without retry.
 */
export function evaluationJobs(ctx: EvaluationWorkerContext): {
  process(job: Job): Promise<{ index: number }>;
  close(): Promise<void>;
} {
  const runs = new Map<string, Promise<LoadedRun>>();
  const load = (job: EvaluationJob): Promise<LoadedRun> => {
    let made = runs.get(job.context);
    if (!made) {
      made = loadRun(ctx, job);
      made.catch(() => runs.delete(job.context));
      runs.set(job.context, made);
      // Keep the two latest runs (an AMP search has two); release the sessions of older ones.
      while (runs.size > 2) {
        const [oldest, loaded] = runs.entries().next().value as [string, Promise<LoadedRun>];
        runs.delete(oldest);
        void loaded.then((r) => r.session.release()).catch(() => undefined);
      }
    }
    return made;
  };
  return {
    async process(job) {
      const parsed = evaluationJobSchema.safeParse(job.data);
      if (!parsed.success)
        throw new UnrecoverableError(
          `quantsim worker ${ctx.id}: job ${job.id} is not a valid configuration: ${parsed.error.message}`,
        );
      const configuration = parsed.data;
      const run = await load(configuration);
      let done = 0;
      const score = await run.score(switchInputs(configuration, run.run), () => {
        done++;
        void job.updateProgress({ worker: ctx.id, done }).catch(() => undefined);
      });
      await ctx.redis.hset(
        keys.scores(ctx.queue, configuration.runId),
        String(configuration.index),
        JSON.stringify(toJsonNumber(score)),
      );
      await ctx.redis.expire(keys.scores(ctx.queue, configuration.runId), RESULT_TTL_SECONDS);
      return { index: configuration.index };
    },
    async close() {
      const loaded = await Promise.allSettled(runs.values());
      for (const r of loaded) if (r.status === 'fulfilled') await r.value.session.release();
      runs.clear();
    },
  };
}

/** The run's context from Redis: the one the job was made for, validated. */
async function readRun(ctx: EvaluationWorkerContext, job: EvaluationJob): Promise<EvaluationRun> {
  const runId = job.runId;
  const text = await ctx.redis.get(keys.evaluation(ctx.queue, runId));
  if (text === null)
    throw new UnrecoverableError(`Run ${runId}: its evaluation context is no longer in Redis (the run ended or expired).`);
  if (createHash('sha256').update(text).digest('hex') !== job.context)
    throw new UnrecoverableError(
      `Run ${runId}: the evaluation context in Redis is not the one configuration ${job.index} was made for.`,
    );
  const parsed = evaluationRunSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new UnrecoverableError(`Run ${runId}: the evaluation context is not valid: ${parsed.error.message}`);
  return parsed.data;
}

/** The switch inputs of a configuration: for each variant, which groups run it. */
function switchInputs(job: EvaluationJob, run: EvaluationRun): Record<string, TensorData> {
  if (job.choice.length !== run.groups)
    throw new UnrecoverableError(
      `Run ${job.runId}: configuration ${job.index} sets ${job.choice.length} groups; the model has ${run.groups}.`,
    );
  const out: Record<string, TensorData> = {};
  for (const [v, input] of run.switchInputs.entries())
    out[input] = { type: 'bool', data: Uint8Array.from(job.choice, (c) => (c === v ? 1 : 0)), dims: [run.groups] };
  if (job.choice.some((c) => c >= run.switchInputs.length))
    throw new UnrecoverableError(`Run ${job.runId}: configuration ${job.index} names a variant the model does not have.`);
  return out;
}

async function loadRun(ctx: EvaluationWorkerContext, job: EvaluationJob): Promise<LoadedRun> {
  const runId = job.runId;
  const run = await readRun(ctx, job);
  const bytes = await modelBytes(run, ctx.redis, ctx.queue, ctx.folders.models);
  const graph = (await loadModel(bytes)).graph;
  const backend = await resolveBackend(ctx.container, run.backend);
  const session = await backend.createSession(bytes, {
    mode: 'simulate',
    ...(ctx.threads ? { intraOpThreads: ctx.threads } : {}),
  });
  try {
    const runWith =
      (switches: Readonly<Record<string, TensorData>>, onRun: () => void) =>
      async (feeds: FeedsLike, fetches?: readonly string[]): Promise<TensorMap> => {
        const checked = checkFeeds({ ...feeds, ...switches }, graph, `run ${runId}`);
        const out = await session.run(checked, fetches);
        onRun();
        return out;
      };
    const evaluation = run.evaluation;
    if (evaluation.kind === 'evaluate') {
      const evaluate = await importExport<(runner: AmpRunner) => Promise<number>>(ctx, evaluation.module, runId);
      return {
        run,
        session,
        score: async (switches, onRun) => checkScore(await evaluate({ run: runWith(switches, onRun) }), runId),
      };
    }
    const samples = evaluation.samples.map((s, i) => decodeFeeds(s, `run ${runId} evaluation sample ${i}`));
    const outputsOf = runsOf(samples, evaluation.batchSize, graph, runId);
    let scorer: Scorer;
    if (evaluation.scorer.kind === 'output-sqnr') {
      const reference = evaluation.scorer.reference.map((r, i) => decodeFeeds(r, `run ${runId} reference ${i}`) as TensorMap);
      scorer = outputSqnrScorer(reference);
    } else {
      const metric = await importExport<SampleMetric>(ctx, evaluation.scorer.module, runId);
      scorer = sampleMetricScorer(samples, metric, evaluation.scorer.better, evaluation.scorer.name);
    }
    return { run, session, score: async (switches, onRun) => scorer.score(await outputsOf(runWith(switches, onRun))) };
  } catch (error) {
    await session.release();
    throw error;
  }
}

/** The runs of a configuration, batched as the coordinator's analysis batched them. */
function runsOf(samples: readonly Feeds[], batchSize: number, graph: GraphView, runId: string): OutputsOf {
  if (batchSize === 1) return sampleOutputs(samples);
  const stacked = stackedOutputs(samples, batchSize, graph);
  if (!stacked)
    throw new UnrecoverableError(`Run ${runId}: the samples cannot be stacked in batches of ${batchSize} on this worker.`);
  return stacked;
}

/** Imports a module inside the worker's `--modules` folders and returns the named function. */
async function importExport<F>(
  ctx: EvaluationWorkerContext,
  ref: { path: string; exportName: string },
  runId: string,
): Promise<F> {
  const file = ctx.folders.modules.check(ref.path);
  return exportedFunction<F>(await importModule(file, `Run ${runId}`), ref.exportName, ref.path, `Run ${runId}`);
}

function checkScore(score: unknown, runId: string): number {
  if (typeof score !== 'number' || Number.isNaN(score))
    throw new QueueError(`Run ${runId}: evaluate returned ${String(score)}; it must return a number.`);
  return score;
}
