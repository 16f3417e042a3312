import { parseArgs } from 'node:util';
import { InvalidArgumentError, QuantsimError } from '@quantsim/core';
import { runWorker } from './worker.js';

/** The worker command's help text. */
export const WORKER_USAGE = `Usage: quantsim-worker --redis URL [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] [--queue NAME] [--data DIR]… [--models DIR]… [--modules DIR]… [--threads N] [--concurrency N]

Takes calibration shards and analysis/AMP configurations from a BullMQ queue on Redis until
stopped (SIGTERM or Ctrl-C).
  --redis URL          redis://[:password@]host[:port][/db], rediss:// for TLS
                       (or the QUANTSIM_REDIS_URL environment variable, which keeps the password out of ps)
  --tls-ca FILE        PEM of the CA that signed a rediss:// server's certificate (a private CA)
  --tls-cert FILE      PEM client certificate, with --tls-key, for a server that checks clients
  --tls-key FILE       PEM key of --tls-cert
  --queue NAME         queue name (default quantsim)
  --data DIR           a folder data sources may be read from (repeatable)
  --models DIR         a folder models may be read from (repeatable)
  --modules DIR        a folder metric and evaluate modules may be imported from (repeatable;
                       analyses with metricModule, AMP searches); none without it
  --threads N          threads inside each session (default: ONNX Runtime's)
  --concurrency N      jobs at once (default 1)
  --lock-duration MS   BullMQ lock duration (default 30000); a dead worker's job is retried after it
  --stalled-interval MS  how often stalled jobs are looked for (default 30000)`;

function positive(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${option} takes a positive integer, received '${value}'.`, {
      hint: `For example ${option} 2.`,
    });
  return n;
}

/**
 * The worker command (`quantsim-worker`, and `quantsim worker` in @quantsim/cli): parses `argv`, runs a
 * worker until SIGTERM or SIGINT, and returns the exit code.
 *
 * ### Examples
 * ```ts
 * process.exitCode = await workerMain(process.argv.slice(2));
 * ```
 */
export async function workerMain(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    process.stderr.write(`quantsim-worker: ${(error as Error).message}\n${WORKER_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${WORKER_USAGE}\n`);
    return 0;
  }
  const redis = values.redis ?? env.QUANTSIM_REDIS_URL;
  if (!redis) {
    process.stderr.write(`quantsim-worker: --redis URL (or QUANTSIM_REDIS_URL) is required.\n${WORKER_USAGE}\n`);
    return 2;
  }
  try {
    const worker = await runWorker({
      redis,
      tls: { caFile: values['tls-ca'], certFile: values['tls-cert'], keyFile: values['tls-key'] },
      queue: values.queue,
      dataFolders: values.data ?? [],
      modelFolders: values.models ?? [],
      moduleFolders: values.modules ?? [],
      threads: positive(values.threads, '--threads'),
      concurrency: positive(values.concurrency, '--concurrency'),
      lockDuration: positive(values['lock-duration'], '--lock-duration'),
      stalledInterval: positive(values['stalled-interval'], '--stalled-interval'),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await worker.close();
    return 0;
  } catch (error) {
    const message = error instanceof QuantsimError ? error.message : (error as Error).stack;
    process.stderr.write(`quantsim-worker: ${message}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      redis: { type: 'string' },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      queue: { type: 'string' },
      data: { type: 'string', multiple: true },
      models: { type: 'string', multiple: true },
      modules: { type: 'string', multiple: true },
      threads: { type: 'string' },
      concurrency: { type: 'string' },
      'lock-duration': { type: 'string' },
      'stalled-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}
