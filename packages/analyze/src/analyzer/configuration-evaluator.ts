import type { FeedsLike, SwitchableSim, SwitchSetting, TensorMap } from '@quantsim/core';
import type { Scorer } from './evaluation.js';

/** One configuration to score: a setting of the switchable simulation, and what it is (for progress and messages). */
export interface Configuration {
  /** For example `only conv2 quantized`, or `phase 1: conv2 at W8A16`. */
  readonly step: string;
  readonly setting: SwitchSetting;
}

/**
 * Where the configurations of an analysis or an AMP search are scored. The default runs them in
 * this process, on the switchable simulation's session (or its threads);
 * `@quantsim/distributed` sends them to workers on a BullMQ queue instead. Whatever it is, it
 * must give the scores this process would: the analysis and the search only compare them.
 */
export interface ConfigurationEvaluator {
  /**
   * The score of each configuration, in order. `onScored(i)` is called as the score of
   * `configurations[i]` becomes known (for progress); when it throws (an abort), scoring stops
   * and the error is what `score` rejects with.
   */
  score(configurations: readonly Configuration[], onScored?: (index: number) => void): Promise<number[]>;
  /** Frees what the evaluator holds (queues, connections, worker processes); called once, at the end. */
  release(): Promise<void>;
}

/** What an analysis hands to `AnalyzeOptions.evaluator`: everything a score is computed from. */
export interface AnalysisEvaluation {
  /** The switchable simulation (plan, W16A16 and per-channel variants) every configuration is a setting of. */
  readonly switchable: SwitchableSim;
  /** The evaluation samples, as given. */
  readonly samples: readonly FeedsLike[];
  /**
   * Samples per run: above 1, `batchSize` samples at a time stacked along the batch axis (the
   * analysis checked that the model gives the same outputs), as `stackedOutputs` stacks them;
   * 1, one run per sample.
   */
  readonly batchSize: number;
  /** The float model's outputs per sample (from the same runs): what output SQNR is measured against. */
  readonly reference: readonly TensorMap[];
  /** How a configuration's outputs become its score: output SQNR against `reference`, or the user's metric. */
  readonly scorer: Scorer;
}

/** What an AMP search hands to `AmpOptions.evaluator`, once per scoring function it uses. */
export interface AmpEvaluation {
  /** The switchable simulation (one variant per candidate, one group per layer) every plan is a setting of. */
  readonly switchable: SwitchableSim;
  /** `phase1`: scored as `evaluatePhase1` scores; `search`: as `evaluate` scores. */
  readonly phase: 'phase1' | 'search';
}
