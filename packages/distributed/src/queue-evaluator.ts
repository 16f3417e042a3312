import { createHash } from 'node:crypto';
import type { Configuration, ConfigurationEvaluator } from '@quantsim/analyze';
import { InvalidArgumentError, type SwitchableSim, type SwitchSetting } from '@quantsim/core';
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { fromJsonNumber, jsonNumber } from './codecs.js';
import { EVALUATE_JOB, type EvaluationJob, type EvaluationRun, evaluationJobId } from './evaluation-job.js';
import { keys } from './job.js';
import type { WorkerProcess } from './local-workers.js';
import { QueueError } from './queue-error.js';
import {
  checkLocalWorkers,
  enqueue,
  POLL_MS,
  type QueueRunOptions,
  runNames,
  shareModel,
  startLocalWorkers,
} from './queue-run.js';
import { connectRedis } from './redis-connection.js';
import { RESULT_TTL_SECONDS } from './worker.js';

/**
 * A coordinator's hold on the queue for one analysis or AMP search: its Redis connection, the
 * queue, the local worker processes, the deadline. Evaluators of the search share it.
 */
export interface QueueSession {
  readonly caller: string;
  readonly redis: Redis;
  readonly queue: Queue;
  readonly queueName: string;
  readonly runId: string;
  readonly options: QueueRunOptions & { readonly signal?: AbortSignal };
  readonly local: readonly WorkerProcess[];
  readonly deadline: number;
  close(): Promise<void>;
}

/** Connects to Redis and starts the local workers (`options.workers`), allowed the given folders. */
export async function openQueueSession(
  caller: string,
  options: QueueRunOptions & { readonly runId?: string; readonly signal?: AbortSignal },
  folders: { readonly dataFolders?: readonly string[]; readonly moduleFolders?: readonly string[] },
): Promise<QueueSession> {
  const { queueName, runId } = runNames(caller, options);
  const redis = await connectRedis(options.redis, 'quantsim-coordinator', options.tls);
  const queue = new Queue(queueName, { connection: redis });
  const local: WorkerProcess[] = [];
  const close = async () => {
    await Promise.all(local.map((w) => w.stop()));
    await queue.close();
    redis.disconnect();
  };
  try {
    await startLocalWorkers(options, queueName, folders, local);
  } catch (error) {
    await close();
    throw error;
  }
  const deadline = options.timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeout;
  return { caller, redis, queue, queueName, runId, options, local, deadline, close };
}

/**
 * An evaluator whose configurations are jobs on the queue: the switchable model goes to Redis
 * (or the model folder), the run's context (samples, batching, scorer or module) to Redis once,
 * and each configuration becomes a job whose worker stores its score in the run's hash. The
 * run id must be new: evaluations do not resume.
 */
export async function openQueueEvaluator(
  session: QueueSession,
  runId: string,
  switchable: SwitchableSim,
  evaluation: EvaluationRun['evaluation'],
): Promise<ConfigurationEvaluator> {
  const { redis, queue, queueName, options } = session;
  const bytes = switchable.switchable.model.toBytes({ inlineExternal: true });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const runKey = keys.run(queueName, runId);
  if ((await redis.set(runKey, JSON.stringify({ evaluation: sha256 }), 'EX', RESULT_TTL_SECONDS, 'NX')) === null)
    throw new QueueError(`${session.caller}: run ${runId} exists already on queue '${queueName}'.`, {
      hint: 'Analyses and AMP searches do not resume: leave out runId (a random one) or pick a new one.',
    });
  const attempts = options.attempts ?? 3;
  const outstanding = new Map<number, string>();
  const release = async () => {
    // Configurations nobody needs any more (an abort, a failure) leave the queue.
    await Promise.all([...outstanding.values()].map((id) => queue.remove(id).catch(() => 0)));
    await redis.del(runKey, keys.evaluation(queueName, runId), keys.scores(queueName, runId));
  };
  let context: string;
  try {
    const run: EvaluationRun = {
      version: 1,
      runId,
      model: await shareModel(redis, queueName, bytes, sha256, options.modelFolder),
      backend: switchable.backend.name,
      switchInputs: [...switchable.switchable.switchInputs],
      groups: switchable.groups.length,
      evaluation,
    };
    const text = JSON.stringify(run);
    context = createHash('sha256').update(text).digest('hex');
    await redis.set(keys.evaluation(queueName, runId), text, 'EX', RESULT_TTL_SECONDS);
  } catch (error) {
    await release();
    throw error;
  }
  let next = 0;
  return {
    async score(configurations: readonly Configuration[], onScored?: (index: number) => void): Promise<number[]> {
      const jobs = configurations.map(
        (c): EvaluationJob => ({
          version: 1,
          runId,
          context,
          index: next++,
          step: c.step,
          choice: choiceOf(switchable, c.setting, c.step),
        }),
      );
      const failedBefore = await queue.getFailedCount();
      for (const job of jobs) {
        const id = evaluationJobId(runId, job.index);
        outstanding.set(job.index, id);
        await enqueue(queue, EVALUATE_JOB, id, job, attempts);
      }
      return waitForScores(session, runId, jobs, failedBefore, outstanding, onScored);
    },
    release,
  };
}

/** The setting as a variant per group, in the switchable model's group order (-1: float). */
function choiceOf(switchable: SwitchableSim, setting: SwitchSetting, step: string): number[] {
  const choice = switchable.groups.map((g) => setting.get(g.name) ?? -1);
  const known = new Set(switchable.groups.map((g) => g.name));
  const unknown = [...setting.keys()].find((name) => !known.has(name));
  if (unknown !== undefined)
    throw new InvalidArgumentError(`Configuration '${step}' sets switch group '${unknown}', which the model does not have.`, {
      hint: 'Make settings with switchable.setting(…).',
    });
  return choice;
}

async function waitForScores(
  session: QueueSession,
  runId: string,
  jobs: readonly EvaluationJob[],
  failedBefore: number,
  outstanding: Map<number, string>,
  onScored: ((index: number) => void) | undefined,
): Promise<number[]> {
  const { redis, queue, queueName, options } = session;
  const scores: number[] = new Array(jobs.length);
  const pending = new Set(jobs.map((_, i) => i));
  let failedSeen = failedBefore;
  for (;;) {
    const order = [...pending];
    const found =
      order.length > 0 ? await redis.hmget(keys.scores(queueName, runId), ...order.map((i) => String(jobs[i]?.index))) : [];
    for (const [k, text] of found.entries()) {
      if (text === null) continue;
      const i = order[k] as number;
      scores[i] = fromJsonNumber(jsonNumber.parse(JSON.parse(text)));
      pending.delete(i);
      outstanding.delete((jobs[i] as EvaluationJob).index);
      onScored?.(i);
    }
    if (pending.size === 0) return scores;
    // A job that failed on every attempt lands in the failed set: look there only when it grew.
    const failedNow = await queue.getFailedCount();
    if (failedNow !== failedSeen) {
      // The newest first: those that failed since the last look, and some.
      const newest = Math.max(0, failedNow - failedSeen) + 100;
      failedSeen = failedNow;
      const ids = new Map(
        [...pending].map((i) => [evaluationJobId(runId, (jobs[i] as EvaluationJob).index), jobs[i] as EvaluationJob]),
      );
      const failed = (await queue.getFailed(0, newest)).find((j: Job) => j.id !== undefined && ids.has(j.id));
      if (failed) {
        const job = ids.get(failed.id as string) as EvaluationJob;
        throw new QueueError(
          `Run ${runId}: configuration ${job.index} ('${job.step}') failed ${failed.attemptsMade} times; last error: ${failed.failedReason}`,
          {
            configuration: { runId, index: job.index, step: job.step },
            hint: 'Fix the cause (the worker logs say more), then start the run again.',
          },
        );
      }
    }
    checkLocalWorkers(runId, session.local);
    if (options.signal?.aborted) throw new QueueError(`Run ${runId} was aborted with ${pending.size} configurations unscored.`);
    if (Date.now() > session.deadline)
      throw new QueueError(`Run ${runId}: ${pending.size} configurations not scored after ${options.timeout} ms.`, {
        hint: 'Start workers on the same queue (quantsim-worker --redis URL --queue NAME), or give more time.',
      });
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
