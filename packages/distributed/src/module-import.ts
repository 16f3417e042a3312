import { pathToFileURL } from 'node:url';
import { QueueError } from './queue-error.js';

/**
 * Imports the module at `file` (a user's metric or `evaluate`): the coordinator's own, or on a
 * worker one inside its `--modules` folders (checked before).
 * @throws QueueError naming the file and why it could not be imported.
 */
export async function importModule(file: string, caller: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new QueueError(`${caller}: cannot import ${file} (${(error as Error).message}).`, {
      hint: 'Give the path of a JavaScript module (a TypeScript one only where tsx runs it).',
      cause: error,
    });
  }
}

/** The function a module exports as `name`. @throws QueueError when there is none. */
export function exportedFunction<F>(exports: Record<string, unknown>, name: string, file: string, caller: string): F {
  const fn = exports[name];
  if (typeof fn !== 'function')
    throw new QueueError(
      `${caller}: ${file} exports no function '${name}' (it exports ${Object.keys(exports).join(', ') || 'nothing'}).`,
      {
        hint: `Export it: export function ${name}(…) { … }.`,
      },
    );
  return fn as F;
}
