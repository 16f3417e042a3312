import { z } from 'zod';

/** Names of runs and queues: letters, digits, `.`, `_` and `-` (they become parts of Redis keys). */
export const NAME = /^[A-Za-z0-9._-]{1,100}$/;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
/** Samples [start, end) of a data source. */
export const dataRange = { start: z.number().int().nonnegative(), end: z.number().int().positive() };
/** A base64 `.npy` file; 256 MiB at most. */
export const base64Npy = z
  .string()
  .max(360 * 2 ** 20)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

/** Where a job's model is: in Redis by hash, or at a path inside the worker's model folders. */
export const modelRef = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('redis'), sha256 }),
  z.strictObject({ kind: z.literal('path'), path: z.string().min(1).max(4096), sha256 }),
]);

/**
 * A calibration shard as a job on the queue: what a worker validates before it touches anything.
 * The model comes from Redis (by hash) or from a path inside the worker's model folders; the data
 * in the job itself, or from a path inside its data folders.
 */
export const shardJobSchema = z.strictObject({
  version: z.literal(1),
  runId: z.string().regex(NAME),
  shard: z.number().int().nonnegative(),
  shards: z.number().int().positive(),
  model: modelRef,
  requests: z
    .array(
      z.strictObject({
        tensor: z.string().min(1).max(4096),
        full: z.boolean(),
        stride: z.number().int().positive().optional(),
      }),
    )
    .max(1_000_000),
  backend: z.string().regex(NAME),
  nonFinite: z.enum(['error', 'ignore']),
  /** The model's input names, for data sources that hold one tensor per sample. */
  inputs: z.array(z.string().min(1).max(4096)).min(1),
  data: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('inline'),
      first: z.number().int().nonnegative(),
      samples: z.array(z.record(z.string().min(1).max(4096), base64Npy)).min(1),
    }),
    z.strictObject({ kind: z.literal('npy-folder'), path: z.string().min(1).max(4096), ...dataRange }),
    z.strictObject({ kind: z.literal('manifest'), path: z.string().min(1).max(4096), ...dataRange }),
  ]),
});

/** A validated shard job. */
export type ShardJob = z.infer<typeof shardJobSchema>;

/** Redis keys of a queue's runs, under BullMQ's own prefix. */
export const keys = {
  model: (queue: string, sha: string) => `quantsim:${queue}:model:${sha}`,
  stats: (queue: string, runId: string, shard: number) => `quantsim:${queue}:run:${runId}:stats:${shard}`,
  run: (queue: string, runId: string) => `quantsim:${queue}:run:${runId}`,
  /** An evaluation run's samples, scoring and model (JSON), read by every worker once. */
  evaluation: (queue: string, runId: string) => `quantsim:${queue}:run:${runId}:evaluation`,
  /** An evaluation run's scores: a hash from configuration index to score. */
  scores: (queue: string, runId: string) => `quantsim:${queue}:run:${runId}:scores`,
};

/** The BullMQ job id of a shard: one job per run and shard, so a restarted coordinator adds none twice. */
export function shardJobId(runId: string, shard: number): string {
  return `${runId}.shard${shard}`;
}
