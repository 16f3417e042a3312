import { readFileSync } from 'node:fs';
import { type Draft, produce } from 'immer';
import type { DependencyContainer } from 'tsyringe';
import { createBackendContainer, registerBackend, registeredBackends } from '../backend/backend-container.js';
import { resolveBackend } from '../backend/resolve-backend.js';
import { type CalibrateOptions, type CalibrationStats, collectStats, statisticsRequests } from '../calibrate/collect.js';
import { computeEncodings } from '../calibrate/compute-encodings.js';
import type { CalibrationData } from '../calibrate/feeds.js';
import type { Backend } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import type { Plugin } from '../contracts/plugin.js';
import type { QuantizerChange, RuleContext, SelectorReport } from '../contracts/rule.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import { type ParsedEncodings, parseAimetEncodings } from '../export/aimet-reader.js';
import { matchEncodings } from '../export/match-encodings.js';
import type { Model } from '../model/model.js';
import { QuantSim } from '../sim/quant-sim.js';
import type { BuilderState } from './builder-state.js';
import { mergeDefaults, type QuantDefaults } from './defaults.js';
import { resolveQuantConfig } from './named-config.js';
import type { OverrideFields, OverrideTarget } from './overrides.js';
import type { QuantPlan } from './plan.js';
import type { PluginSet, WarningSink } from './plugin-set.js';
import type { PreparedModel, PreparedModelCache } from './prepared-model.js';
import type { QuantBuilder } from './quant-builder.js';
import { resolvePlan } from './resolve.js';
import { type LayerPredicate, type SelectorData, toPatterns } from './selector.js';
import { QUANTIZER_FIELDS } from './spec.js';

/** Settings of one kind of quantizer, as accepted by `.activations()`, `.params()` and `.inputs()`. */
export interface QuantizerOptions {
  /** Bitwidth: 2–32 for integers, 16 or 32 for `dtype: 'float'`. */
  readonly bits: number;
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
export interface ResolvedPlan {
  readonly plan: QuantPlan;
  readonly prepared: PreparedModel;
  readonly selectors: readonly SelectorReport[];
  readonly changes: readonly QuantizerChange[];
  readonly state: BuilderState;
  readonly services: BuilderServices;
  /** The rule context of this plan, for later phases. */
  readonly context: Omit<RuleContext, 'phase'>;
  /** Encodings carried in (from `sim.edit()` or `loadEncodings`), matched to this plan. */
  readonly carried: CarriedEncodings | undefined;
}

let nextFunctionId = 1;

/**
 * The immutable fluent builder. Every method returns a new builder; the one it was called on is
 * unchanged, so builders can be stored, forked and reused.
 */
export class QuantBuilderImpl implements QuantBuilder {
  readonly #state: BuilderState;
  readonly #services: BuilderServices;

  constructor(state: BuilderState, services: BuilderServices) {
    this.#state = state;
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

  defaults(update: Partial<QuantDefaults>): QuantBuilderImpl {
    const next = mergeDefaults(this.#state.defaults, update, `.defaults(${describeValue(update)})`);
    return this.#next((d) => {
      d.defaults = next;
    });
  }

  config(nameFileOrObject: string | object): QuantBuilderImpl {
    const config = resolveQuantConfig(nameFileOrObject, this.#services.plugins.configs);
    return this.#next((d) => {
      d.config = config as never;
    });
  }

  layers(...patterns: (RegExp | string | LayerPredicate)[]): QuantBuilderImpl {
    return this.#select('layers', patterns);
  }

  ops(...opTypes: string[]): QuantBuilderImpl {
    for (const op of opTypes)
      if (typeof op !== 'string' || op === '')
        throw new InvalidArgumentError(`.ops() takes op type names such as 'Conv' or 'Softmax', received ${describeValue(op)}.`);
    return this.#select('ops', opTypes);
  }

  tensors(...patterns: (RegExp | string)[]): QuantBuilderImpl {
    return this.#select('tensors', patterns);
  }

  all(): QuantBuilderImpl {
    return this.#next((d) => {
      d.scope = { kind: 'all', patterns: [], call: '.all()' };
    });
  }

  #select(kind: 'layers' | 'ops' | 'tensors', patterns: readonly (RegExp | string | LayerPredicate)[]): QuantBuilderImpl {
    const functions = new Map(this.#services.functions);
    const call = `.${kind}(${patterns.map((p) => (p instanceof RegExp ? String(p) : typeof p === 'function' ? '(layer) => …' : describeValue(p))).join(', ')})`;
    const data = toPatterns(call, patterns, (fn) => {
      const id = nextFunctionId++;
      functions.set(id, fn);
      return id;
    });
    if (kind !== 'layers' && data.some((p) => p.type === 'function'))
      throw new InvalidArgumentError(`${call}: functions select layers only.`, { hint: 'Use .layers((layer) => …) instead.' });
    const selector: SelectorData = { kind, patterns: data, call };
    return this.#next(
      (d) => {
        d.scope = selector as never;
      },
      { functions },
    );
  }

  activations(settings: number | QuantizerOptions): QuantBuilderImpl {
    return this.#modify('activations', quantizerFields('activations', settings), `.activations(${describeValue(settings)})`);
  }

  params(settings: number | QuantizerOptions): QuantBuilderImpl {
    return this.#modify('params', quantizerFields('params', settings), `.params(${describeValue(settings)})`);
  }

  inputs(settings: number | QuantizerOptions = {} as QuantizerOptions): QuantBuilderImpl {
    const fields = typeof settings === 'object' && !('bits' in settings) ? {} : quantizerFields('inputs', settings);
    return this.#modify(
      'inputs',
      { ...fields, enabled: true },
      `.inputs(${typeof settings === 'object' && !('bits' in settings) ? '' : describeValue(settings)})`,
    );
  }

  perChannel(axis?: number): QuantBuilderImpl {
    if (axis !== undefined && (!Number.isInteger(axis) || axis < 0))
      throw new InvalidArgumentError(`.perChannel(${describeValue(axis)}): the axis must be a non-negative integer.`, {
        hint: 'Omit it to use the output-channel axis (Conv 0, ConvTranspose 1).',
      });
    return this.#modify('params', { perChannelAxis: axis ?? 'natural' }, `.perChannel(${axis ?? ''})`);
  }

  perTensor(): QuantBuilderImpl {
    return this.#modify('params', { perChannelAxis: null }, '.perTensor()');
  }

  symmetric(options: { strict?: boolean } = {}): QuantBuilderImpl {
    const fields: OverrideFields =
      options.strict === undefined ? { symmetric: true } : { symmetric: true, strictSymmetric: options.strict };
    return this.#modify('all', fields, `.symmetric(${options.strict === undefined ? '' : describeValue(options)})`);
  }

  asymmetric(): QuantBuilderImpl {
    return this.#modify('all', { symmetric: false }, '.asymmetric()');
  }

  disable(): QuantBuilderImpl {
    return this.#modify('all', { enabled: false }, '.disable()');
  }

  enable(): QuantBuilderImpl {
    return this.#modify('all', { enabled: true }, '.enable()');
  }

  scheme(name: string, options: Readonly<Record<string, unknown>> = {}): QuantBuilderImpl {
    if (typeof name !== 'string' || name === '')
      throw new InvalidArgumentError(`.scheme() takes a scheme name such as 'tf-enhanced', received ${describeValue(name)}.`);
    return this.#modify(
      'all',
      { scheme: name, schemeOptions: options },
      `.scheme(${describeValue(name)}${Object.keys(options).length ? `, ${describeValue(options)}` : ''})`,
    );
  }

  #modify(target: OverrideTarget, fields: OverrideFields, text: string): QuantBuilderImpl {
    const selector: SelectorData = this.#state.scope ?? { kind: 'all', patterns: [], call: '' };
    return this.#next((d) => {
      d.overrides.push({ selector: selector as never, target, fields: fields as never, call: `${selector.call}${text}` });
    });
  }

  foldBatchNorms(on = true): QuantBuilderImpl {
    return this.#next((d) => {
      d.foldBatchNorms = on;
    });
  }

  backend(backend: string | Backend, options: { fallback?: 'cpu' } = {}): QuantBuilderImpl {
    if (typeof backend === 'string') {
      if (backend === '') throw new InvalidArgumentError('.backend() needs a backend name, for example "cpu".');
      return this.#next(
        (d) => {
          d.backend = { name: backend, fallback: options.fallback };
        },
        { backendInstance: undefined },
      );
    }
    if (
      typeof backend !== 'object' ||
      backend === null ||
      typeof backend.createSession !== 'function' ||
      typeof backend.name !== 'string'
    )
      throw new InvalidArgumentError(`.backend() takes a backend name or a Backend object, received ${describeValue(backend)}.`, {
        hint: 'A Backend has name, capabilities, probe() and createSession().',
      });
    return this.#next(
      (d) => {
        d.backend = { name: backend.name, fallback: options.fallback };
      },
      { backendInstance: backend },
    );
  }

  mode(mode: 'simulate' | 'emulate'): QuantBuilderImpl {
    if (mode !== 'simulate' && mode !== 'emulate')
      throw new InvalidArgumentError(`.mode() takes 'simulate' or 'emulate', received ${describeValue(mode)}.`);
    return this.#next((d) => {
      d.mode = mode;
    });
  }

  use(plugin: Plugin): QuantBuilderImpl {
    return new QuantBuilderImpl(this.#state, { ...this.#services, plugins: this.#services.plugins.with(plugin) });
  }

  recalibrate(): QuantBuilderImpl {
    return this.#next((d) => {
      d.recalibrate = true;
    });
  }

  loadEncodings(file: string | object, options: LoadEncodingsOptions = {}): QuantBuilderImpl {
    let parsed: ParsedEncodings;
    if (typeof file === 'string') {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new InvalidArgumentError(`loadEncodings: cannot read ${file} (${(e as Error).message}).`, {
          hint: 'Check the path of the .encodings file.',
        });
      }
      parsed = parseAimetEncodings(text, file);
    } else parsed = parseAimetEncodings(file);
    return new QuantBuilderImpl(this.#state, {
      ...this.#services,
      loaded: { parsed, strict: options.strict ?? true, freeze: options.freeze ?? true },
    });
  }

  /** @internal Replaces the carried encodings (used by `sim.edit()` and `loadEncodings`). */
  withCarried(carried: CarriedEncodings | undefined): QuantBuilderImpl {
    return new QuantBuilderImpl(this.#state, { ...this.#services, carried });
  }

  async plan(): Promise<QuantPlan> {
    return (await this.resolve()).plan;
  }

  /** A child container holding the registered backends plus those of plugins. */
  #backendContainer(): DependencyContainer {
    const container = createBackendContainer(this.#services.container);
    for (const b of this.#services.plugins.backends) registerBackend(container, b);
    return container;
  }

  /** @internal Resolves the plan and runs the `plan` (and, after `sim.edit()`, `edit`) rules. */
  async resolve(): Promise<ResolvedPlan> {
    const model = await this.#services.model();
    const s = this.#state;
    const prepared = this.#services.prepared.get(model, s.foldBatchNorms, s.config?.supergroups ?? []);
    const { plan, selectors } = resolvePlan({
      graph: prepared.graph,
      placement: prepared.placement,
      defaults: s.defaults,
      config: s.config,
      overrides: s.overrides,
      functions: this.#services.functions,
      foldedInto: prepared.foldedInto,
    });
    const carried = this.#carried(plan);
    const changes = carried?.plan ? diffPlans(carried.plan, plan, carried.encodings) : [];
    const context: Omit<RuleContext, 'phase'> = {
      model: prepared.model,
      plan,
      selectors,
      encodings: carried?.encodings ?? new Map(),
      frozen: carried?.frozen ?? new Set(),
      changes,
      recalibrate: s.recalibrate ? 'all' : new Set(),
      schemeNames: [...this.#services.plugins.schemes.keys()],
      backendNames: [
        ...new Set([
          ...registeredBackends(this.#backendContainer()).map((b) => b.name),
          ...(this.#services.backendInstance ? [this.#services.backendInstance.name] : []),
        ]),
      ],
      backend: s.backend.name,
    };
    this.#services.plugins.check('plan', context, this.#services.warn);
    if (carried?.plan) this.#services.plugins.check('edit', context, this.#services.warn);
    return { plan, prepared, selectors, changes, state: s, services: this.#services, context, carried };
  }

  /** Carried encodings: from `sim.edit()`, or loaded from a file and matched against `plan`. */
  #carried(plan: QuantPlan): CarriedEncodings | undefined {
    const loaded = this.#services.loaded;
    if (!loaded) return this.#services.carried;
    const matched = matchEncodings(plan, loaded.parsed, { strict: loaded.strict });
    for (const m of matched.mismatches)
      this.#services.warn(`quantsim: loadEncodings(${loaded.parsed.source}, { strict: false }): ${m.message}`);
    return {
      plan: undefined,
      encodings: matched.encodings,
      frozen: loaded.freeze ? new Set(matched.encodings.keys()) : new Set(),
    };
  }

  /**
   * Encodings to keep as they are: frozen ones, and after `sim.edit()` those whose quantizer did
   * not change. Loaded encodings that are not frozen are recomputed by calibration.
   */
  #kept(resolved: ResolvedPlan, all = false): Map<string, Encoding> {
    const carried = resolved.carried;
    const keep = new Map<string, Encoding>();
    if (!carried) return keep;
    const changed = new Set(resolved.changes.map((c) => c.quantizer));
    for (const [id, enc] of carried.encodings) {
      const q = resolved.plan.get(id);
      if (!q?.enabled) continue;
      if (all || carried.frozen.has(id) || (carried.plan !== undefined && !changed.has(id))) keep.set(id, enc);
    }
    return keep;
  }

  async #backend(): Promise<Backend> {
    const s = this.#state.backend;
    return resolveBackend(
      this.#backendContainer(),
      this.#services.backendInstance ?? s.name,
      s.fallback ? { fallback: s.fallback } : {},
    );
  }

  async collectStats(data: CalibrationData, options: CalibrateOptions = {}): Promise<CalibrationStats> {
    const resolved = await this.resolve();
    this.#services.plugins.check('calibrate', resolved.context, this.#services.warn);
    const backend = await this.#backend();
    const requests = statisticsRequests(
      resolved,
      this.#services.plugins.schemes,
      new Set(this.#kept(resolved).keys()),
      options.histogramStride,
    );
    return collectStats(resolved, backend, requests, data, options);
  }

  async fromStats(stats: CalibrationStats): Promise<QuantSim> {
    const resolved = await this.resolve();
    const backend = await this.#backend();
    const keep = this.#kept(resolved);
    const encodings = computeEncodings(resolved.plan, resolved.prepared, stats, this.#services.plugins.schemes, keep);
    return new QuantSim(resolved, encodings, backend, this, resolved.carried?.frozen ?? new Set());
  }

  async simulate(): Promise<QuantSim> {
    const resolved = await this.resolve();
    const backend = await this.#backend();
    return new QuantSim(resolved, this.#kept(resolved, true), backend, this, resolved.carried?.frozen ?? new Set());
  }

  async calibrate(data: CalibrationData, options: CalibrateOptions = {}): Promise<QuantSim> {
    return this.fromStats(await this.collectStats(data, options));
  }
}

/** Fields of quantizers with encodings that differ between the calibrated plan and the new one. */
export function diffPlans(before: QuantPlan, after: QuantPlan, encodings: EncodingMap): QuantizerChange[] {
  const changes: QuantizerChange[] = [];
  for (const q of after.quantizers) {
    const old = before.get(q.id);
    if (!old || !encodings.has(q.id)) continue;
    for (const f of QUANTIZER_FIELDS) {
      if (JSON.stringify(old[f]) === JSON.stringify(q[f])) continue;
      changes.push({ quantizer: q.id, field: f, before: old[f], after: q[f], call: q.provenance[f] ?? 'unknown' });
    }
  }
  return changes;
}

function quantizerFields(what: string, settings: number | QuantizerOptions): OverrideFields {
  if (typeof settings === 'number') {
    if (!Number.isInteger(settings))
      throw new InvalidArgumentError(`.${what}(${settings}): a bitwidth must be an integer.`, { hint: 'For example 8 or 16.' });
    return { bitwidth: settings };
  }
  if (typeof settings !== 'object' || settings === null || typeof settings.bits !== 'number')
    throw new InvalidArgumentError(
      `.${what}() takes a bitwidth or { bits, symmetric?, scheme?, dtype? }, received ${describeValue(settings)}.`,
      {
        hint: `For example .${what}(16) or .${what}({ bits: 16, dtype: 'float' }).`,
      },
    );
  const known = new Set(['bits', 'symmetric', 'scheme', 'schemeOptions', 'dtype']);
  for (const k of Object.keys(settings))
    if (!known.has(k))
      throw new InvalidArgumentError(`.${what}(): unknown option '${k}'.`, { hint: `Options: ${[...known].join(', ')}.` });
  if (settings.dtype !== undefined && settings.dtype !== 'int' && settings.dtype !== 'float')
    throw new InvalidArgumentError(`.${what}(): dtype must be 'int' or 'float', received ${describeValue(settings.dtype)}.`);
  const fields: OverrideFields = {
    bitwidth: settings.bits,
    ...(settings.dtype !== undefined ? { dtype: settings.dtype } : {}),
    ...(settings.symmetric !== undefined ? { symmetric: settings.symmetric } : {}),
    ...(settings.scheme !== undefined ? { scheme: settings.scheme, schemeOptions: settings.schemeOptions ?? {} } : {}),
  };
  return fields;
}
