import os from 'node:os';

/** How many worker threads a calibration or an evaluation used, and why. */
export interface ThreadPoolReport {
  /** Threads asked for (`'auto'`: one per core). */
  readonly requested: number;
  /** Threads used: fewer than requested when free memory (or, in calibration, the data) ran short. */
  readonly used: number;
  /** Memory the first worker added to the process (its thread, model copy and session), in bytes. */
  readonly perWorkerBytes: number;
  /** Free memory when the other workers were started, in bytes. */
  readonly freeBytes: number;
}

/** Of free memory, the share that new workers may take. */
const MEMORY_SHARE = 0.8;

/** Free memory as the process may use it (cgroup limits included where Node reports them). */
function freeMemory(): number {
  const available = (process as { availableMemory?: () => number }).availableMemory?.();
  return available !== undefined && available > 0 ? Math.min(available, os.freemem()) : os.freemem();
}

/** The RSS growth measured for one worker, floored at 1 MiB (a collection in between can shrink it). */
export function workerCost(rssBefore: number): number {
  return Math.max(process.memoryUsage.rss() - rssBefore, 1 << 20);
}

/**
 * How many of `requested` workers to run once the first one runs and costs `perWorkerBytes`: the
 * others must fit in 80% of free memory. Warns (naming `where`, the figures and the way out)
 * when that caps the count.
 */
export function fitWorkers(
  requested: number,
  perWorkerBytes: number,
  where: string,
  warn: (message: string) => void,
): ThreadPoolReport {
  const freeBytes = freeMemory();
  const fits = 1 + Math.floor((freeBytes * MEMORY_SHARE) / perWorkerBytes);
  const used = Math.max(1, Math.min(requested, fits));
  if (used < requested)
    warn(
      `quantsim: ${where}: each worker takes about ${mib(perWorkerBytes)} MiB and ${mib(freeBytes)} MiB are free; ` +
        `using ${used} workers, not ${requested} (more would not fit in ${MEMORY_SHARE * 100}% of free memory). ` +
        `Free memory to run more, or ask for workers: ${used} to run that many without this warning.`,
    );
  return { requested, used, perWorkerBytes, freeBytes };
}

function mib(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}
