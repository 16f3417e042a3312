import { QuantsimError, type QuantsimErrorOptions } from '@quantsim/core';

/**
 * The queue could not be used: Redis unreachable or refusing the password, a shard or a
 * configuration that failed on every attempt, a job payload that is not valid, or a path outside a worker's folders.
 * The message names the server (password masked) or the run and shard.
 */
export class QueueError extends QuantsimError {
  /** The run and shard at fault, when one is. */
  readonly shard: { readonly runId: string; readonly index: number } | undefined;
  /** The configuration at fault in an analysis or AMP search: its place in the run and what it is. */
  readonly configuration: { readonly runId: string; readonly index: number; readonly step: string } | undefined;

  constructor(
    message: string,
    options: QuantsimErrorOptions & {
      shard?: { runId: string; index: number };
      configuration?: { runId: string; index: number; step: string };
    } = {},
  ) {
    super('QUEUE', message, options);
    this.shard = options.shard;
    this.configuration = options.configuration;
  }
}
