import type { DependencyContainer } from 'tsyringe';
import type { Backend } from '../contracts/backend.js';
import type { EncodingMap } from '../contracts/encoding.js';
import type { QuantizerChange, RuleContext, SelectorReport } from '../contracts/rule.js';
import type { ParsedEncodings } from '../export/aimet/read.js';
import type { Model } from '../model/model.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PlannedModel, PreparedModelCache } from '../plan/prepared-model.js';
import type { LayerPredicate } from '../plan/selector.js';
import type { BiasCorrectionRecord } from '../ptq/bias-correction.js';
import type { BuilderState } from './builder-state.js';
import type { PluginSet, WarningSink } from './plugin-set.js';

/** Settings of one kind of quantizer, as accepted by `.activations()`, `.params()` and `.inputs()`. */
export interface QuantizerOptions {
  /**
   * Bitwidth: 2–32 for integers, 16 or 32 for `dtype: 'float'`. Omitted: the bitwidth the
   * quantizers already have (the defaults, or an earlier override), so that
   * `.activations({ scheme: 'percentile' })` changes the scheme alone.
   */
  readonly bits?: number;
  readonly symmetric?: boolean;
  readonly scheme?: string;
  readonly schemeOptions?: Readonly<Record<string, unknown>>;
  /** `int` (default) or `float` (fp16 cast simulation). */
  readonly dtype?: 'int' | 'float';
}

/** Encodings carried into a builder by `sim.edit()` or `loadEncodings`. */
export interface CarriedEncodings {
  /** The plan the encodings were computed for (absent for loaded files). */
  readonly plan: QuantPlan | undefined;
  readonly encodings: EncodingMap;
  /** Loaded with `freeze`: never overwritten by calibration. */
  readonly frozen: ReadonlySet<string>;
  /** Activation quantizers of If branches that no calibration sample ran (float on purpose). */
  readonly unrun?: ReadonlySet<string>;
  /**
   * Biases that bias correction rewrote, by tensor name: `simulate()` computes with them, so that
   * `sim.edit().simulate()` keeps the corrected model the encodings were computed on.
   */
  readonly biases?: ReadonlyMap<string, Float32Array>;
  /** What bias correction did to them (the report `sim.postTraining` carries on). */
  readonly biasCorrection?: readonly BiasCorrectionRecord[];
}

/** Services shared by a builder and its forks. Not part of the immutable state. */
export interface BuilderServices {
  readonly model: () => Promise<Model>;
  readonly plugins: PluginSet;
  readonly functions: ReadonlyMap<number, LayerPredicate>;
  readonly backendInstance: Backend | undefined;
  /** The container backends are resolved from; each resolution uses a child of it. */
  readonly container: DependencyContainer;
  readonly warn: WarningSink;
  readonly prepared: PreparedModelCache;
  readonly carried: CarriedEncodings | undefined;
  /** Encodings read by `loadEncodings`, matched against the plan when it is resolved. */
  readonly loaded: LoadedEncodings | undefined;
}

/** Encodings read from a file, waiting for a plan to be matched against. */
export interface LoadedEncodings {
  readonly parsed: ParsedEncodings;
  readonly strict: boolean;
  readonly freeze: boolean;
}

/** Options of `loadEncodings`. */
export interface LoadEncodingsOptions {
  /** Error on names the model lacks and settings that disagree, listing every mismatch (default true). */
  readonly strict?: boolean;
  /** Loaded encodings survive calibration (default true). */
  readonly freeze?: boolean;
}

/** A plan with everything calibration needs. */
export interface ResolvedPlan extends PlannedModel {
  readonly selectors: readonly SelectorReport[];
  readonly changes: readonly QuantizerChange[];
  readonly state: BuilderState;
  readonly services: BuilderServices;
  /** The rule context of this plan, for later phases. */
  readonly context: Omit<RuleContext, 'phase'>;
  /** Encodings carried in (from `sim.edit()` or `loadEncodings`), matched to this plan. */
  readonly carried: CarriedEncodings | undefined;
}
