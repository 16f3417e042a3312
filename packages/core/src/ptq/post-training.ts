import { type CalibrationData, checkFeeds, type FeedsLike } from '../calibrate/feeds.js';
import type { Backend } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import type { EncodingScheme } from '../contracts/scheme.js';
import type { QuantizerSpec } from '../contracts/spec.js';
import type { Feeds } from '../contracts/tensor.js';
import { paramEncoding as paramEncodingOf } from '../encode/compute-encodings.js';
import { PostTrainingError } from '../errors/post-training-error.js';
import { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { EqualizationReport, EqualizeOptions } from '../transform/equalize.js';
import { BIAS_CORRECTED_OPS, type BiasCorrectionOptions, type BiasCorrectionRecord, correctBiases } from './bias-correction.js';
import { SEQ_MSE_OPS, type SeqMseOptions, type SeqMseRecord, type SeqMseSkipped, sequentialMse } from './seq-mse.js';

/** The post-training steps a builder asked for (plain data in the builder's state). */
export interface PostTrainingSteps {
  /** Set by `.equalize()`. */
  readonly equalize?: EqualizeOptions;
  /**
   * Bias correction: on by default (`undefined`: 16 samples); the options of `.biasCorrection()`;
   * `false` after `.biasCorrection(false)`.
   */
  readonly biasCorrection?: BiasCorrectionOptions | false;
  /** Set by `.seqMse()`. */
  readonly seqMse?: SeqMseOptions;
}

/** What the post-training steps did (`sim.postTraining`). */
export interface PostTrainingReport {
  /** `.equalize()`: the equalized sets and the pairs that could not be equalized, with reasons. */
  readonly equalization?: EqualizationReport;
  /** `.seqMse()`: the weight encodings chosen, and layers skipped with the reason. */
  readonly seqMse?: { readonly records: readonly SeqMseRecord[]; readonly skipped: readonly SeqMseSkipped[] };
  /** `.biasCorrection()`: the biases corrected. */
  readonly biasCorrection?: readonly BiasCorrectionRecord[];
}

/** The steps that run (`.biasCorrection(false)` resolved to no bias correction). */
export interface EffectiveSteps {
  readonly equalize?: EqualizeOptions;
  readonly seqMse?: SeqMseOptions;
  readonly biasCorrection?: BiasCorrectionOptions;
  /** Bias correction runs because it is the default (no `.biasCorrection()` call). */
  readonly defaultBiasCorrection: boolean;
}

/**
 * The post-training steps that run for a builder's state. Empirical bias correction is on unless
 * `.biasCorrection(false)` turns it off (AIMET leaves it to the user): per-tensor 8-bit activations
 * shift the mean of every layer's output, and correcting it takes the PaddleOCR recognizer's W8A8
 * from 1.9 % CER to 1.1 % on the hard dev set (float 0.94 %; docs/accuracy.md), for about one pass
 * over the simulation per sample it uses.
 */
export function effectiveSteps(steps: PostTrainingSteps | undefined): EffectiveSteps {
  const { biasCorrection, ...rest } = steps ?? {};
  if (biasCorrection === false) return { ...rest, defaultBiasCorrection: false };
  return { ...rest, biasCorrection: biasCorrection ?? {}, defaultBiasCorrection: biasCorrection === undefined };
}

/** How many calibration samples the data-driven steps keep for their own runs (0: none needed). */
export function postTrainingSamples(steps: PostTrainingSteps | undefined): number {
  const run = effectiveSteps(steps);
  return Math.max(run.seqMse ? (run.seqMse.samples ?? 16) : 0, run.biasCorrection ? (run.biasCorrection.samples ?? 16) : 0);
}

/**
 * Wraps calibration data so that its first `count` samples are kept while statistics are
 * gathered (data given as a generator can be read only once).
 */
export function keepFirstSamples(data: CalibrationData, count: number): { data: CalibrationData; samples: FeedsLike[] } {
  const samples: FeedsLike[] = [];
  if (count === 0) return { data, samples };
  async function* tee() {
    const source = typeof data === 'function' ? data() : data;
    for await (const s of source as AsyncIterable<FeedsLike>) {
      if (samples.length < count) samples.push(s);
      yield s;
    }
  }
  return { data: () => tee(), samples };
}

/**
 * The plan with each quantizer that a post-training step changes marked in `steps` (shown in
 * `plan.toTable()`'s last column): weights and biases of equalized layers, weights that
 * Sequential MSE encodes, and biases that bias correction rewrites.
 */
export function markPostTrainingSteps(plan: QuantPlan, prepared: PreparedModel, given: PostTrainingSteps | undefined): QuantPlan {
  const steps = effectiveSteps(given);
  if (!steps.equalize && !steps.seqMse && !steps.biasCorrection) return plan;
  const biasMark = steps.defaultBiasCorrection ? 'bias correction (default)' : '.biasCorrection()';
  const equalized = new Set(prepared.equalization?.sets.flatMap((s) => s.layers) ?? []);
  const graph = prepared.graph;
  const marks = new Map<string, string[]>();
  const mark = (id: string | undefined, step: string) => {
    if (id) marks.set(id, [...(marks.get(id) ?? []), step]);
  };
  for (const layer of graph.layers) {
    const own = plan.forLayer(layer.name).filter((q) => q.kind === 'param');
    const weight = own.find((q) => q.paramRole === 'weight' || (layer.opType === 'MatMul' && q.tensor === layer.inputs[1]));
    const bias = own.find((q) => q.paramRole === 'bias');
    if (equalized.has(layer.name)) for (const q of own) mark(q.id, '.equalize()');
    if (steps.seqMse && SEQ_MSE_OPS.has(layer.opType) && weight?.enabled && weight.dtype === 'int') mark(weight.id, '.seqMse()');
    if (
      steps.biasCorrection &&
      BIAS_CORRECTED_OPS.has(layer.opType) &&
      weight?.enabled &&
      layer.params.some((p) => p.role === 'bias')
    )
      mark((bias ?? weight).id, biasMark);
  }
  if (marks.size === 0) return plan;
  const quantizers = plan.quantizers.map((q): QuantizerSpec => {
    const m = marks.get(q.id);
    return m ? { ...q, steps: [...(q.steps ?? []), ...m] } : q;
  });
  return new QuantPlan(quantizers, plan.skipped);
}

/** What {@link applyPostTraining} works on: a calibrated simulation's parts. */
export interface PostTrainingRun {
  /** The model as prepared for the plan (folded, equalized). */
  readonly prepared: PreparedModel;
  /** The resolved plan. */
  readonly plan: QuantPlan;
  /** The encodings computed by calibration. */
  readonly encodings: EncodingMap;
  /** The backend the measurements run on. */
  readonly backend: Backend;
  /** Encoding schemes by name (to recompute a corrected bias's encoding). */
  readonly schemes: ReadonlyMap<string, EncodingScheme>;
  /** Calibration samples kept by {@link keepFirstSamples}. */
  readonly samples: readonly FeedsLike[];
}

/**
 * Runs the data-driven post-training steps after calibration, in AIMET's order: Sequential MSE
 * (weight encodings), then bias correction (with the final weight encodings).
 *
 * @returns the prepared model (biases corrected), the encodings and the report.
 */
export async function applyPostTraining(
  run: PostTrainingRun,
  steps: EffectiveSteps | undefined,
): Promise<{ prepared: PreparedModel; encodings: EncodingMap; report: PostTrainingReport }> {
  const base: PostTrainingReport = run.prepared.equalization ? { equalization: run.prepared.equalization } : {};
  if (!steps?.seqMse && !steps?.biasCorrection) return { prepared: run.prepared, encodings: run.encodings, report: base };
  if (run.samples.length === 0)
    throw new PostTrainingError(
      '.seqMse() and .biasCorrection() need calibration samples, and none were given.',
      'Call .calibrate(data) with at least one sample, or pass the samples to fromStats(stats, samples).',
    );
  const samples: Feeds[] = run.samples.map((s, i) => checkFeeds(s, run.prepared.graph, `post-training sample ${i}`));
  const paramEncoding = (prepared: PreparedModel, spec: QuantizerSpec): Encoding => {
    const scheme = run.schemes.get(spec.scheme) as EncodingScheme;
    return paramEncodingOf(prepared, spec, scheme);
  };
  let prepared = run.prepared;
  let encodings: EncodingMap = run.encodings;
  let report: PostTrainingReport = base;
  if (steps.seqMse) {
    const r = await sequentialMse(
      { prepared, plan: run.plan, encodings, backend: run.backend, samples, paramEncoding },
      steps.seqMse,
    );
    encodings = r.encodings;
    report = { ...report, seqMse: { records: r.records, skipped: r.skipped } };
  }
  if (steps.biasCorrection) {
    const r = await correctBiases(
      { prepared, plan: run.plan, encodings, backend: run.backend, samples, paramEncoding },
      steps.biasCorrection,
    );
    prepared = r.prepared;
    encodings = r.encodings;
    report = { ...report, biasCorrection: r.records };
  }
  return { prepared, encodings, report };
}
