import 'reflect-metadata';
import { workerData } from 'piscina';
import { createBackendContainer, registerBackend } from '../backend/backend-container.js';
import { backendFromRecipe } from '../backend/backend-recipe.js';
import { resolveBackend } from '../backend/resolve-backend.js';
import type { BackendSession } from '../contracts/backend.js';
import type { SwitchableResult, SwitchableTask, SwitchableWorkerData } from '../simulate/switchable-protocol.js';

// One session per thread, opened on its first task: the model is parsed once per thread.
let session: Promise<BackendSession> | undefined;

async function open(data: SwitchableWorkerData): Promise<BackendSession> {
  const made = await backendFromRecipe(data.recipe);
  // The same probe as in the main thread: an unavailable backend fails with its reason.
  const backend = await resolveBackend(registerBackend(createBackendContainer(), made), made.name);
  // ONNX Runtime takes bytes in an ordinary ArrayBuffer only: this thread's own copy.
  const bytes = new Uint8Array(data.model).slice();
  return backend.createSession(bytes, { mode: 'simulate', intraOpThreads: data.intraOpThreads });
}

/** The task of one evaluation thread: one run of the switchable model with the given switches. */
export default async function runSwitchable(task: SwitchableTask): Promise<SwitchableResult> {
  try {
    session ??= open(workerData as SwitchableWorkerData);
    return { outputs: await (await session).run(task.feeds, task.fetches) };
  } catch (error) {
    const e = error as Error & { code?: string; hint?: string };
    return { error: { code: e.code, message: e.message, hint: e.hint } };
  }
}
