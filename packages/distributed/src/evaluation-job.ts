import { z } from 'zod';
import { base64Npy, modelRef, NAME } from './job.js';

/** The BullMQ job name of one configuration of an analysis or AMP search. */
export const EVALUATE_JOB = 'evaluate-configuration';

const path = z.string().min(1).max(4096);
const encodedTensors = z.record(z.string().min(1).max(4096), base64Npy);
/** A module a worker imports (inside its `--modules` folders), and the export it calls. */
const moduleRef = z.strictObject({ path, exportName: z.string().regex(/^[A-Za-z_$][\w$]*$/) });

/**
 * What every configuration of one run is evaluated with, stored once per run in Redis
 * (`keys.evaluation`) and cached by the workers: the switchable model, the evaluation samples,
 * how runs batch them, and how outputs become a score.
 */
export const evaluationRunSchema = z.strictObject({
  version: z.literal(1),
  runId: z.string().regex(NAME),
  model: modelRef,
  backend: z.string().regex(NAME),
  /** The switchable model's switch inputs, one per variant. */
  switchInputs: z.array(path).min(1),
  /** How many switch groups the model has (the length of each switch input). */
  groups: z.number().int().positive(),
  evaluation: z.discriminatedUnion('kind', [
    /** The analysis: each configuration runs every sample, and a scorer turns the outputs into its score. */
    z.strictObject({
      kind: z.literal('samples'),
      /** In-memory feeds, as `.npy` bytes. */
      samples: z.array(encodedTensors).min(1),
      /** Above 1: that many samples per run, stacked along the batch axis. */
      batchSize: z.number().int().positive(),
      scorer: z.discriminatedUnion('kind', [
        /** Output SQNR against the float outputs of each sample (their float32 tensors). */
        z.strictObject({ kind: z.literal('output-sqnr'), reference: z.array(encodedTensors).min(1) }),
        /** The user's per-sample metric from a module, averaged. */
        z.strictObject({
          kind: z.literal('metric'),
          module: moduleRef,
          better: z.enum(['higher', 'lower']),
          name: z.string().max(200).optional(),
        }),
      ]),
    }),
    /** AMP: `evaluate(runner)` from a module, the score of the model the runner runs. */
    z.strictObject({ kind: z.literal('evaluate'), module: moduleRef }),
  ]),
});

/** A validated evaluation run. */
export type EvaluationRun = z.infer<typeof evaluationRunSchema>;

/** One configuration as a job: which run, which one, and its setting as a variant per group (-1: float). */
export const evaluationJobSchema = z.strictObject({
  version: z.literal(1),
  runId: z.string().regex(NAME),
  /** SHA-256 of the run's context as stored: workers cache a run by it and check what they read. */
  context: z.string().regex(/^[0-9a-f]{64}$/),
  /** Position of the configuration in the run: its score is stored under it. */
  index: z.number().int().nonnegative(),
  /** What the configuration is, for messages (`only conv2 quantized`). */
  step: z.string().max(10_000),
  choice: z.array(z.number().int().min(-1)).max(10_000_000),
});

/** A validated evaluation job. */
export type EvaluationJob = z.infer<typeof evaluationJobSchema>;

/** The BullMQ job id of a configuration. */
export function evaluationJobId(runId: string, index: number): string {
  return `${runId}.config${index}`;
}
