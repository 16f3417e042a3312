import path from 'node:path';
import {
  type AmpOptions,
  type AmpResult,
  type AnalyzeOptions,
  analyze,
  autoMixedPrecision,
  type QuantAnalysisReport,
  type SampleMetric,
} from '@quantsim/analyze';
import type { QuantBuilder, TensorMap } from '@quantsim/core';
import { encodeFeeds } from './codecs.js';
import { exportedFunction, importModule } from './module-import.js';
import { QueueError } from './queue-error.js';
import { openQueueEvaluator, openQueueSession, type QueueSession } from './queue-evaluator.js';
import { checkWorkerCount, type QueueRunOptions } from './queue-run.js';

/** Options of {@link analyzeOnQueue}: those of `analyze` (but `metric`, `workers`, `evaluator`), and the queue's. */
export interface QueueAnalyzeOptions extends Omit<AnalyzeOptions, 'metric' | 'workers' | 'evaluator'>, QueueRunOptions {
  /**
   * A user metric, as a module that exports `metric(outputs, sample) => number` (a closure
   * cannot travel to other machines). The coordinator and every worker import it; workers only
   * from inside their `--modules` folders, so the path must be the same everywhere (shared
   * storage). Default: output SQNR against float.
   */
  readonly metricModule?: string;
  /** Names the run (its Redis keys and job ids); random when omitted. An analysis does not resume. */
  readonly runId?: string;
}

/**
 * `analyze` with its configurations scored by workers on a BullMQ queue (`runWorker`, the
 * `quantsim-worker` command): the coordinator calibrates, builds the switchable model and the
 * float reference as `analyze` does, puts the model and the evaluation samples in Redis (or the
 * model in `modelFolder`), and enqueues each configuration as a job; each worker loads the run
 * once and returns the configuration's score, computed by the same code from the same outputs.
 * The report is the one `analyze` gives in one process: every score bit for bit.
 *
 * A worker that dies mid-configuration leaves it to another (BullMQ's stalled-job check); a
 * configuration that fails `attempts` times fails the run naming it.
 *
 * ### Examples
 * ```ts
 * const report = await analyzeOnQueue(quant('model.onnx'), {
 *   calibration,
 *   evaluation: samples.slice(0, 32),
 *   redis: 'redis://:secret@10.0.0.5:6379',
 *   queue: 'analysis',
 * });
 * await report.writeHtml('out/report.html');
 * ```
 *
 * @throws QueueError when Redis is unreachable, a configuration fails, `metric` is given as a
 *   function, or the timeout passes.
 */
export async function analyzeOnQueue(builder: QuantBuilder, options: QueueAnalyzeOptions): Promise<QuantAnalysisReport> {
  const given = options as QueueAnalyzeOptions & { metric?: unknown; evaluator?: unknown };
  if (given.metric !== undefined)
    throw new QueueError('analyzeOnQueue: `metric` is a function, which cannot travel to queue workers.', {
      hint: "Export it as `metric` from a module every worker can read, and pass metricModule: '/shared/metric.mjs' (workers need --modules /shared).",
    });
  checkWorkerCount('analyzeOnQueue', options.workers);
  const metricModule = options.metricModule === undefined ? undefined : path.resolve(options.metricModule);
  const metric = metricModule
    ? exportedFunction<SampleMetric>(await importModule(metricModule, 'analyzeOnQueue'), 'metric', metricModule, 'analyzeOnQueue')
    : undefined;
  const session = await openQueueSession('analyzeOnQueue', options, {
    moduleFolders: metricModule ? [path.dirname(metricModule)] : [],
  });
  try {
    const { metricModule: _module, ...analyzeOptions } = options;
    return await analyze(builder, {
      ...analyzeOptions,
      ...(metric ? { metric } : {}),
      evaluator: ({ switchable, samples, batchSize, reference, scorer }) =>
        openQueueEvaluator(session, session.runId, switchable, {
          kind: 'samples',
          samples: samples.map((s) => encodeFeeds(s as never)),
          batchSize,
          scorer: metricModule
            ? {
                kind: 'metric',
                module: { path: metricModule, exportName: 'metric' },
                better: scorer.better,
                ...(options.metricName !== undefined ? { name: options.metricName } : {}),
              }
            : { kind: 'output-sqnr', reference: reference.map(float32Outputs) },
        }),
    });
  } finally {
    await session.close();
  }
}

/** Options of {@link autoMixedPrecisionOnQueue}: those of `autoMixedPrecision` (but the functions, `workers` and `evaluator`), and the queue's. */
export interface QueueAmpOptions
  extends Omit<AmpOptions, 'evaluate' | 'evaluatePhase1' | 'workers' | 'evaluator'>,
    QueueRunOptions {
  /**
   * A module that exports `evaluate(runner) => Promise<number>` and, optionally,
   * `evaluatePhase1`: the scores of `autoMixedPrecision`, as code every worker imports (from
   * inside its `--modules` folders; the same path everywhere). The coordinator imports it too,
   * for the float score and the final plan's.
   */
  readonly evaluateModule: string;
  /** Names the run (its Redis keys and job ids); random when omitted. A search does not resume. */
  readonly runId?: string;
}

/**
 * `autoMixedPrecision` with its plans scored by workers on a BullMQ queue: phase 1's probes go
 * out at once, phase 2's steps one at a time (each depends on the last). The coordinator
 * calibrates, builds the switchable model, scores float and the final plan itself, and gives
 * the same front, plan and scores as a single-process search.
 *
 * ### Examples
 * ```ts
 * const amp = await autoMixedPrecisionOnQueue(quant('model.onnx'), {
 *   calibration,
 *   evaluateModule: '/shared/evaluate.mjs',        // export async function evaluate(runner) { … }
 *   better: 'higher', allowedDrop: 0.5,
 *   candidates: [{ activations: 8, params: 8 }, { activations: 16, params: 16 }],
 *   redis: 'redis://:secret@10.0.0.5:6379',
 * });
 * await amp.saveConfig('out/plan.json');
 * ```
 *
 * @throws QueueError when Redis is unreachable, the module lacks `evaluate`, a plan fails, or the timeout passes.
 */
export async function autoMixedPrecisionOnQueue(builder: QuantBuilder, options: QueueAmpOptions): Promise<AmpResult> {
  checkWorkerCount('autoMixedPrecisionOnQueue', options.workers);
  const module = path.resolve(options.evaluateModule);
  const caller = 'autoMixedPrecisionOnQueue';
  const exports = await importModule(module, caller);
  const evaluate = exportedFunction<AmpOptions['evaluate']>(exports, 'evaluate', module, caller);
  const evaluatePhase1 =
    exports.evaluatePhase1 === undefined
      ? undefined
      : exportedFunction<AmpOptions['evaluate']>(exports, 'evaluatePhase1', module, caller);
  const session: QueueSession = await openQueueSession(caller, options, {
    moduleFolders: [path.dirname(module)],
  });
  try {
    const { evaluateModule: _module, ...ampOptions } = options;
    return await autoMixedPrecision(builder, {
      ...ampOptions,
      evaluate,
      ...(evaluatePhase1 ? { evaluatePhase1 } : {}),
      evaluator: ({ switchable, phase }) =>
        openQueueEvaluator(session, `${session.runId}.${phase}`, switchable, {
          kind: 'evaluate',
          module: { path: module, exportName: phase === 'phase1' ? 'evaluatePhase1' : 'evaluate' },
        }),
    });
  } finally {
    await session.close();
  }
}

/** A sample's float32 outputs (those output SQNR reads) as `.npy` files. */
function float32Outputs(outputs: TensorMap): Record<string, string> {
  return encodeFeeds(Object.fromEntries(Object.entries(outputs).filter(([, t]) => t.data instanceof Float32Array)) as never);
}
