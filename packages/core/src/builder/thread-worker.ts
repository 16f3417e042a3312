import 'reflect-metadata';
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'piscina';
import { createBackendContainer, registerBackend } from '../backend/backend-container.js';
import { backendFromRecipe } from '../backend/backend-recipe.js';
import { resolveBackend } from '../backend/resolve-backend.js';
import type { FeedsLike } from '../calibrate/feeds.js';
import { openStatisticsJob, type StatisticsJobRunner } from '../calibrate/statistics-job.js';
import type { ThreadMessage, ThreadReply, ThreadResult, ThreadTask, ThreadWorkerData } from '../calibrate/thread-protocol.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';

// One runner per thread, made on its first task: the model is parsed once per thread.
let runner: Promise<StatisticsJobRunner> | undefined;

async function open(data: ThreadWorkerData): Promise<StatisticsJobRunner> {
  const recipe = data.job.backend.recipe;
  if (!recipe)
    throw new InvalidArgumentError(`Calibration thread: backend '${data.job.backend.name}' has no recipe.`, {
      hint: 'Give the backend a `recipe` (module, exportName, options), or calibrate without `workers`.',
    });
  const made = await backendFromRecipe(recipe);
  // The same probe as in the main thread: an unavailable backend fails with its reason.
  const backend = await resolveBackend(registerBackend(createBackendContainer(), made), made.name);
  return openStatisticsJob({ ...data.job, model: new Uint8Array(data.model) }, backend, {
    intraOpThreads: data.intraOpThreads,
  });
}

/** Pulls samples from the main thread, one at a time, until it says there are no more. */
async function* pull(port: MessagePort, seen: { index: number; count: number }): AsyncGenerator<FeedsLike> {
  for (;;) {
    const reply = await new Promise<ThreadReply>((resolve) => {
      port.once('message', resolve);
      port.postMessage({ type: 'next' } satisfies ThreadMessage);
    });
    if (reply.type === 'end') return;
    seen.index = reply.index;
    seen.count++;
    yield reply.feeds;
  }
}

/** The task of one calibration thread: the statistics of every sample it pulls. */
export default async function calibrateOnThread(task: ThreadTask): Promise<ThreadResult> {
  const { port } = task;
  const seen = { index: -1, count: 0 };
  try {
    runner ??= open(workerData as ThreadWorkerData);
    const stats = await (await runner).run(pull(port, seen), {
      onProgress: () => port.postMessage({ type: 'done' } satisfies ThreadMessage),
    });
    return { stats };
  } catch (error) {
    const e = error as Error & { code?: string; hint?: string };
    // A thread that got no sample (more threads than samples) has nothing to report.
    if (seen.count === 0 && e.code === 'CALIBRATION') return { stats: { samples: 0, tensors: {} } };
    return { error: { index: seen.index, code: e.code, message: e.message, hint: e.hint } };
  } finally {
    port.close();
  }
}
