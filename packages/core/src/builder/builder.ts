import { type Draft, freeze, produce } from 'immer';
import type { CalibrationData, FeedsLike } from '../calibrate/feeds.js';
import type { StatisticsJob } from '../calibrate/statistics-job.js';
import type { ThreadCalibrateOptions } from '../calibrate/thread-pool.js';
import type { Backend } from '../contracts/backend.js';
import type { CalibrateOptions, CalibrationStats } from '../contracts/calibration.js';
import type { Plugin } from '../contracts/plugin.js';
import { describeValue } from '../errors/quantsim-error.js';
import { mergeDefaults, type QuantDefaults } from '../plan/defaults.js';
import type { OverrideFields, OverrideTarget } from '../plan/overrides.js';
import type { QuantPlan } from '../plan/plan.js';
import type { LayerPredicate, SelectorData } from '../plan/selector.js';
import type { BiasCorrectionOptions } from '../ptq/bias-correction.js'; // post-training options
import { keepFirstSamples, type PostTrainingSteps, postTrainingSamples } from '../ptq/post-training.js'; // post-training samples
import type { SeqMseOptions } from '../ptq/seq-mse.js'; // post-training options
import type { EqualizeOptions } from '../transform/equalize.js'; // post-training options
import {
  backendChoice,
  danglingSelector,
  danglingSelectorError,
  inputFields,
  perChannelAxis,
  postTrainingOptions, // post-training option checks
  quantizerFields,
  readEncodings,
  schemeFields,
  selectorData,
  simulationMode,
  symmetricFields,
} from './arguments.js';
import type { BuilderState } from './builder-state.js';
import { resolveQuantConfig } from './named-config.js';
import type { BuilderServices, CarriedEncodings, LoadEncodingsOptions, QuantizerOptions, ResolvedPlan } from './options.js';
import { gatherStats, resolve, simulation, statisticsJob } from './pipeline.js';
import type { QuantBuilder } from './quant-builder.js';
import type { QuantSim } from './quant-sim.js';

export type {
  BuilderServices,
  CarriedEncodings,
  LoadEncodingsOptions,
  LoadedEncodings,
  QuantizerOptions,
  ResolvedPlan,
} from './options.js';
export { diffPlans } from './pipeline.js';

/**
 * The immutable fluent builder (see {@link QuantBuilder} for each method). It holds frozen plain
 * data and the services shared with its forks; every method checks its arguments, returns a new
 * builder, and leaves this one unchanged. The stages run in `./pipeline.ts`.
 */
export class QuantBuilderImpl implements QuantBuilder {
  readonly #state: BuilderState;
  readonly #services: BuilderServices;

  constructor(state: BuilderState, services: BuilderServices) {
    this.#state = freeze(state, true);
    this.#services = services;
  }

  /** The builder's state (frozen plain data), for inspection and tests. */
  get state(): BuilderState {
    return this.#state;
  }

  /** @internal */
  get services(): BuilderServices {
    return this.#services;
  }

  #next(recipe: (draft: Draft<BuilderState>) => void, services: Partial<BuilderServices> = {}): QuantBuilderImpl {
    return new QuantBuilderImpl(produce(this.#state, recipe), { ...this.#services, ...services });
  }

  #set(patch: Partial<BuilderState>, services: Partial<BuilderServices> = {}): QuantBuilderImpl {
    return this.#next((d) => {
      Object.assign(d, patch);
    }, services);
  }

  #with(services: Partial<BuilderServices>): QuantBuilderImpl {
    return new QuantBuilderImpl(this.#state, { ...this.#services, ...services });
  }

  /** A new selection while the previous one had no modifier: that one would change nothing. */
  #refuseDanglingSelector(): void {
    const dangling = danglingSelector(this.#state);
    if (dangling) throw danglingSelectorError(dangling);
  }

  #select(kind: 'layers' | 'ops' | 'tensors', patterns: readonly (RegExp | string | LayerPredicate)[]): QuantBuilderImpl {
    this.#refuseDanglingSelector();
    const functions = new Map(this.#services.functions);
    const selector = selectorData(kind, patterns, functions);
    return this.#set({ scope: selector }, { functions });
  }

  #modify(target: OverrideTarget, change: { fields: OverrideFields; text: string }): QuantBuilderImpl {
    const selector: SelectorData = this.#state.scope ?? { kind: 'all', patterns: [], call: '' };
    const override = { selector, target, fields: change.fields, call: `${selector.call}${change.text}` };
    return this.#next((d) => {
      d.overrides.push(override as never);
    });
  }

  /** Post-training: merges one step's checked options into `state.postTraining`. */
  #postTraining(step: PostTrainingSteps): QuantBuilderImpl {
    return this.#set({ postTraining: { ...this.#state.postTraining, ...step } });
  }

  defaults(update: Partial<QuantDefaults>): QuantBuilderImpl {
    const next = mergeDefaults(this.#state.defaults, update, `.defaults(${describeValue(update)})`);
    return this.#set({ defaults: next });
  }

  config(nameFileOrObject: string | object): QuantBuilderImpl {
    const config = resolveQuantConfig(nameFileOrObject, this.#services.plugins.configs);
    return this.#set({ config: config });
  }

  layers(...patterns: (RegExp | string | LayerPredicate)[]): QuantBuilderImpl {
    return this.#select('layers', patterns);
  }

  ops(...opTypes: string[]): QuantBuilderImpl {
    return this.#select('ops', opTypes);
  }

  tensors(...patterns: (RegExp | string)[]): QuantBuilderImpl {
    return this.#select('tensors', patterns);
  }

  all(): QuantBuilderImpl {
    this.#refuseDanglingSelector();
    return this.#set({ scope: { kind: 'all', patterns: [], call: '.all()' } });
  }

  activations(settings: number | QuantizerOptions): QuantBuilderImpl {
    return this.#modify('activations', {
      fields: quantizerFields('activations', settings),
      text: `.activations(${describeValue(settings)})`,
    });
  }

  params(settings: number | QuantizerOptions): QuantBuilderImpl {
    return this.#modify('params', { fields: quantizerFields('params', settings), text: `.params(${describeValue(settings)})` });
  }

  inputs(settings: number | QuantizerOptions = {} as QuantizerOptions): QuantBuilderImpl {
    return this.#modify('inputs', inputFields(settings));
  }

  perChannel(axis?: number): QuantBuilderImpl {
    return this.#modify('params', { fields: { perChannelAxis: perChannelAxis(axis) }, text: `.perChannel(${axis ?? ''})` });
  }

  perTensor(): QuantBuilderImpl {
    return this.#modify('params', { fields: { perChannelAxis: null }, text: '.perTensor()' });
  }

  symmetric(options: { strict?: boolean } = {}): QuantBuilderImpl {
    return this.#modify('all', symmetricFields(options));
  }

  asymmetric(): QuantBuilderImpl {
    return this.#modify('all', { fields: { symmetric: false }, text: '.asymmetric()' });
  }

  disable(): QuantBuilderImpl {
    return this.#modify('all', { fields: { enabled: false }, text: '.disable()' });
  }

  enable(): QuantBuilderImpl {
    return this.#modify('all', { fields: { enabled: true }, text: '.enable()' });
  }

  scheme(name: string, options: Readonly<Record<string, unknown>> = {}): QuantBuilderImpl {
    return this.#modify('all', schemeFields(name, options));
  }

  foldBatchNorms(on = true): QuantBuilderImpl {
    return this.#set({ foldBatchNorms: on });
  }

  // Post-training steps: each records its checked options in state.postTraining (see ptq/post-training.ts).
  equalize(options: EqualizeOptions = {}): QuantBuilderImpl {
    return this.#postTraining({ equalize: postTrainingOptions('.equalize()', options, [], ['highBiasAbsorption']) });
  }

  biasCorrection(options: BiasCorrectionOptions | boolean = {}): QuantBuilderImpl {
    if (options === false) return this.#postTraining({ biasCorrection: false });
    const checked = options === true ? {} : options;
    return this.#postTraining({ biasCorrection: postTrainingOptions('.biasCorrection()', checked, ['samples'], []) });
  }

  seqMse(options: SeqMseOptions = {}): QuantBuilderImpl {
    return this.#postTraining({ seqMse: postTrainingOptions('.seqMse()', options, ['candidates', 'samples', 'positions'], []) });
  }

  backend(backend: string | Backend, options: { fallback?: 'cpu' } = {}): QuantBuilderImpl {
    const { name, instance } = backendChoice(backend);
    return this.#set({ backend: { name, fallback: options.fallback } }, { backendInstance: instance });
  }

  mode(mode: 'simulate' | 'emulate'): QuantBuilderImpl {
    const checked = simulationMode(mode);
    return this.#set({ mode: checked });
  }

  use(plugin: Plugin): QuantBuilderImpl {
    return this.#with({ plugins: this.#services.plugins.with(plugin) });
  }

  recalibrate(): QuantBuilderImpl {
    return this.#set({ recalibrate: true });
  }

  loadEncodings(file: string | object, options: LoadEncodingsOptions = {}): QuantBuilderImpl {
    const parsed = readEncodings(file);
    return this.#with({ loaded: { parsed, strict: options.strict ?? true, freeze: options.freeze ?? true } });
  }

  /** @internal Replaces the carried encodings (used by `sim.edit()`). */
  withCarried(carried: CarriedEncodings | undefined): QuantBuilderImpl {
    return this.#with({ carried });
  }

  /** @internal Resolves the plan and runs the `plan` (and, after `sim.edit()`, `edit`) rules. */
  resolve(): Promise<ResolvedPlan> {
    return resolve(this.#state, this.#services);
  }

  async plan(): Promise<QuantPlan> {
    return (await this.resolve()).plan;
  }

  collectStats(data: CalibrationData, options: ThreadCalibrateOptions = {}): Promise<CalibrationStats> {
    return gatherStats(this.#state, this.#services, data, options);
  }

  statisticsJob(options: Pick<CalibrateOptions, 'histogramStride' | 'nonFinite'> = {}): Promise<StatisticsJob> {
    return statisticsJob(this.#state, this.#services, options);
  }

  fromStats(stats: CalibrationStats, postTrainingSamples: readonly FeedsLike[] = []): Promise<QuantSim> {
    // Post-training: `.seqMse()` / `.biasCorrection()` run on `postTrainingSamples` (see pipeline.ts).
    return simulation(this.#state, this.#services, stats, (carried) => this.withCarried(carried), postTrainingSamples);
  }

  simulate(): Promise<QuantSim> {
    return simulation(this.#state, this.#services, undefined, (carried) => this.withCarried(carried));
  }

  async calibrate(data: CalibrationData, options: ThreadCalibrateOptions = {}): Promise<QuantSim> {
    // Post-training: keep the first samples for `.seqMse()` / `.biasCorrection()`.
    const tee = keepFirstSamples(data, postTrainingSamples(this.#state.postTraining));
    return this.fromStats(await this.collectStats(tee.data, options), tee.samples);
  }
}
