import type { Backend } from '../contracts/backend.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';

/**
 * Checks that `value` has the shape of a {@link Backend}, so that a malformed plugin fails
 * where it is registered rather than deep inside a run.
 *
 * @param where - the function being called, for the message (`registerBackend`).
 * @throws InvalidArgumentError naming the first missing or malformed member.
 */
export function checkBackend(value: unknown, where: string): asserts value is Backend {
  if (typeof value !== 'object' || value === null)
    throw new InvalidArgumentError(`${where} expects a Backend object; received ${describeValue(value)}.`, {
      hint: 'Pass an instance such as new CpuBackend() from @quantsim/backends, or an object implementing Backend.',
    });
  const b = value as Partial<Record<keyof Backend, unknown>>;
  const label = typeof b.name === 'string' && b.name !== '' ? `backend '${b.name}'` : 'backend';
  const problem =
    typeof b.name !== 'string' || b.name.trim() === ''
      ? `its name is ${describeValue(b.name)}, not a non-empty string`
      : typeof b.probe !== 'function'
        ? 'it has no probe() method'
        : typeof b.createSession !== 'function'
          ? 'it has no createSession() method'
          : !hasCapabilities(b.capabilities)
            ? 'its capabilities are not { qdqTypes: Set, fusesQdq: boolean }'
            : undefined;
  if (problem)
    throw new InvalidArgumentError(`${where}: the ${label} is not a Backend: ${problem}.`, {
      hint: 'Implement every member of the Backend interface from @quantsim/core.',
    });
}

function hasCapabilities(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as { qdqTypes?: unknown; fusesQdq?: unknown };
  return typeof c.fusesQdq === 'boolean' && typeof (c.qdqTypes as { has?: unknown } | undefined)?.has === 'function';
}
