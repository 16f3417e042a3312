import { type Draft, freeze, produce } from 'immer';
import type { CalibrationData } from '../calibrate/feeds.js';
import type { Backend } from '../contracts/backend.js';
import type { CalibrateOptions, CalibrationStats } from '../contracts/calibration.js';
import type { Plugin } from '../contracts/plugin.js';
import { describeValue } from '../errors/quantsim-error.js';
import { mergeDefaults, type QuantDefaults } from '../plan/defaults.js';
import type { OverrideFields, OverrideTarget } from '../plan/overrides.js';
import type { QuantPlan } from '../plan/plan.js';
import type { LayerPredicate, SelectorData } from '../plan/selector.js';
import {
  backendChoice,
  inputFields,
  perChannelAxis,
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
import { gatherStats, resolve, simulation } from './pipeline.js';
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

  #select(kind: 'layers' | 'ops' | 'tensors', patterns: readonly (RegExp | string | LayerPredicate)[]): QuantBuilderImpl {
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

  collectStats(data: CalibrationData, options: CalibrateOptions = {}): Promise<CalibrationStats> {
    return gatherStats(this.#state, this.#services, data, options);
  }

  fromStats(stats: CalibrationStats): Promise<QuantSim> {
    return simulation(this.#state, this.#services, stats, (carried) => this.withCarried(carried));
  }

  simulate(): Promise<QuantSim> {
    return simulation(this.#state, this.#services, undefined, (carried) => this.withCarried(carried));
  }

  async calibrate(data: CalibrationData, options: CalibrateOptions = {}): Promise<QuantSim> {
    return this.fromStats(await this.collectStats(data, options));
  }
}
