import type { Backend, BackendRecipe } from '../contracts/backend.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';

/**
 * Makes a backend from its {@link BackendRecipe}: imports the module and constructs the export.
 *
 * @throws InvalidArgumentError when the module has no such export or it is not a backend.
 */
export async function backendFromRecipe(recipe: BackendRecipe): Promise<Backend> {
  const exports = (await import(recipe.module)) as Record<string, unknown>;
  const Made = exports[recipe.exportName];
  if (typeof Made !== 'function')
    throw new InvalidArgumentError(`Backend recipe: ${recipe.module} has no export '${recipe.exportName}'.`, {
      hint: "Check the backend's recipe: exportName must name its class.",
    });
  const backend = new (Made as new (options: unknown) => Backend)(recipe.options);
  if (typeof backend.createSession !== 'function')
    throw new InvalidArgumentError(`Backend recipe: '${recipe.exportName}' from ${recipe.module} is not a Backend.`);
  return backend;
}
