import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QueueError } from './queue-error.js';
import type { RedisTls } from './redis-connection.js';

/** Options of {@link startWorkerProcess}. */
export interface WorkerProcessOptions {
  readonly redis: string;
  /** A CA or client certificate for a `rediss://` URL (passed as `--tls-ca`, `--tls-cert`, `--tls-key`). */
  readonly tls?: RedisTls;
  readonly queue: string;
  readonly dataFolders?: readonly string[];
  readonly modelFolders?: readonly string[];
  /** Folders metric and `evaluate` modules may be imported from (`--modules`). */
  readonly moduleFolders?: readonly string[];
  readonly threads?: number;
  readonly lockDuration?: number;
  readonly stalledInterval?: number;
  /** How long to wait for the worker's "ready" line, in ms (default 60 000). */
  readonly readyTimeout?: number;
}

/** A worker process on this machine. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr), for messages. */
  output(): string;
  /** Stops it: SIGTERM (it finishes its shard), then SIGKILL after `graceMs` (default 10 000). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `quantsim-worker` as a child process of this one and waits until it is connected
 * and taking jobs. The Redis URL goes through the environment, not the command line, so that
 * its password does not show in process listings.
 *
 * ### Examples
 * ```ts
 * const worker = await startWorkerProcess({ redis: 'redis://127.0.0.1:6379', queue: 'calib' });
 * await worker.stop();
 * ```
 *
 * @throws QueueError when it exits or stays silent before it is ready.
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const fromSource = import.meta.url.endsWith('.ts');
  const bin = fileURLToPath(new URL(fromSource ? './bin.ts' : './bin.js', import.meta.url));
  const args = [
    ...(fromSource ? ['--conditions=@quantsim/source', '--import', 'tsx'] : []),
    bin,
    '--queue',
    options.queue,
    ...(options.dataFolders ?? []).flatMap((d) => ['--data', d]),
    ...(options.modelFolders ?? []).flatMap((d) => ['--models', d]),
    ...(options.moduleFolders ?? []).flatMap((d) => ['--modules', d]),
    ...(options.tls?.caFile !== undefined ? ['--tls-ca', options.tls.caFile] : []),
    ...(options.tls?.certFile !== undefined ? ['--tls-cert', options.tls.certFile] : []),
    ...(options.tls?.keyFile !== undefined ? ['--tls-key', options.tls.keyFile] : []),
    ...(options.threads ? ['--threads', String(options.threads)] : []),
    ...(options.lockDuration ? ['--lock-duration', String(options.lockDuration)] : []),
    ...(options.stalledInterval ? ['--stalled-interval', String(options.stalledInterval)] : []),
  ];
  const child = spawn(process.execPath, args, {
    // From sources, `--import tsx` resolves from here (the workspace's node_modules).
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, QUANTSIM_REDIS_URL: options.redis },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new QueueError(`A local worker was not ready after ${options.readyTimeout ?? 60_000} ms.\n${text}`)),
      options.readyTimeout ?? 60_000,
    );
    const onData = (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-20_000);
      if (/quantsim worker .* ready/.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new QueueError(`A local worker exited (${signal ?? `code ${code}`}) before it was ready: ${text.trim()}`));
    });
  });
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    await ready;
  } catch (error) {
    await stop(1000);
    throw error;
  }
  return { child, output: () => text, stop };
}
