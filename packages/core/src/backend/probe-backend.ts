import type { Backend, BackendProbe } from '../contracts/backend.js';
import { describeValue, toError } from '../errors/quantsim-error.js';

const probes = new WeakMap<Backend, Promise<BackendProbe>>();

/**
 * Probes a backend once per process and shares the result: every caller, concurrent or later,
 * gets the same promise. A probe that throws or returns a malformed value (which the contract
 * forbids) counts as unavailable, with the error as its reason.
 *
 * ### Examples
 * ```ts
 * const { available, reason, device } = await probeBackend(new WebGpuBackend());
 * ```
 */
export function probeBackend(backend: Backend): Promise<BackendProbe> {
  let probe = probes.get(backend);
  if (!probe) {
    probe = runProbe(backend);
    probes.set(backend, probe);
  }
  return probe;
}

async function runProbe(backend: Backend): Promise<BackendProbe> {
  const broken = (what: string): BackendProbe => ({
    available: false,
    reason: `its probe ${what}`,
    fix: `Report this to the author of the '${backend.name}' backend, and pick another backend meanwhile.`,
  });
  let result: unknown;
  try {
    result = await backend.probe();
  } catch (error) {
    return broken(`threw instead of reporting: ${toError(error).message}`);
  }
  if (typeof result !== 'object' || result === null || typeof (result as BackendProbe).available !== 'boolean')
    return broken(`returned ${describeValue(result)} instead of { available: boolean }`);
  const probe = result as BackendProbe;
  if (!probe.available && !probe.reason) return { ...probe, reason: 'its probe said so without giving a reason' };
  return probe;
}
