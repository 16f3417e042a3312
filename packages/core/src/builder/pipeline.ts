import type { DependencyContainer } from 'tsyringe';
import { createBackendContainer, registerBackend, registeredBackends } from '../backend/backend-container.js';
import { resolveBackend } from '../backend/resolve-backend.js';
import { collectStats, statisticsRequests } from '../calibrate/collect.js';
import type { CalibrationData, FeedsLike } from '../calibrate/feeds.js';
import type { StatisticsJob } from '../calibrate/statistics-job.js';
import { collectStatsOnThreads, requestedWorkers, type ThreadCalibrateOptions } from '../calibrate/thread-pool.js';
import type { Backend } from '../contracts/backend.js';
import type { CalibrateOptions, CalibrationStats } from '../contracts/calibration.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import type { QuantizerChange, RuleContext } from '../contracts/rule.js';
import { computeEncodings } from '../encode/compute-encodings.js';
import { StaleEncodingsError } from '../errors/stale-encodings-error.js';
import { int32BiasLinks } from '../export/aimet/int32-bias.js';
import { matchEncodings } from '../export/match-encodings.js';
import type { GraphView } from '../graph/graph-view.js';
import { overwriteWeights } from '../onnx/graph-edit.js';
import { checkPlan } from '../plan/check-plan.js';
import { configWarnings } from '../plan/config-warnings.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import { resolvePlan } from '../plan/resolve.js';
import { QUANTIZER_FIELDS } from '../plan/spec.js';
import { applyPostTraining, effectiveSteps, markPostTrainingSteps, postTrainingSamples } from '../ptq/post-training.js'; // post-training steps
import { findStaleEncodings } from '../simulate/stale-encodings.js';
import { danglingSelector, danglingSelectorError } from './arguments.js';
import type { BuilderState } from './builder-state.js';
import type { BuilderServices, CarriedEncodings, ResolvedPlan } from './options.js';
import type { QuantBuilder } from './quant-builder.js';
import { QuantSim } from './quant-sim.js';

/*
 * The one place that wires the stages: plan → rules → statistics → encodings → simulation. Each
 * stage gets only its inputs (the plan and the prepared model, a backend, the schemes); the
 * builder's state and services stay here.
 */

/** Makes the builder that `sim.edit()` returns, carrying a simulation's encodings. */
export type EditBuilder = (carried: CarriedEncodings) => QuantBuilder;

/** A child container holding the registered backends plus those of plugins. */
function backendContainer(services: BuilderServices): DependencyContainer {
  const container = createBackendContainer(services.container);
  for (const b of services.plugins.backends) registerBackend(container, b);
  return container;
}

/** Resolves the builder's backend: the instance given to `.backend()`, or the one registered under its name. */
export function selectBackend(state: BuilderState, services: BuilderServices): Promise<Backend> {
  const { name, fallback } = state.backend;
  return resolveBackend(backendContainer(services), services.backendInstance ?? name, fallback ? { fallback } : {});
}

/** Resolves the plan and runs the `plan` (and, after `sim.edit()`, `edit`) rules. */
export async function resolve(state: BuilderState, services: BuilderServices): Promise<ResolvedPlan> {
  const model = await services.model();
  const dangling = danglingSelector(state);
  if (dangling) throw danglingSelectorError(dangling);
  // Post-training: `.equalize()` is part of preparing the model.
  const prepared = services.prepared.get(
    model,
    state.foldBatchNorms,
    state.config?.supergroups ?? [],
    state.postTraining?.equalize,
  );
  const { plan: resolvedPlan, selectors } = resolvePlan({
    graph: prepared.graph,
    placement: prepared.placement,
    defaults: state.defaults,
    config: state.config,
    overrides: state.overrides,
    functions: services.functions,
    foldedInto: prepared.foldedInto,
  });
  const plan = markPostTrainingSteps(resolvedPlan, prepared, state.postTraining); // post-training provenance
  checkPlan(plan, prepared.graph, services.plugins.schemes);
  for (const w of configWarnings(state.config, prepared.graph)) services.warn(w);
  const carried = carriedEncodings(plan, services, prepared.graph);
  const changes = carried?.plan ? diffPlans(carried.plan, plan, carried.encodings) : [];
  const context: Omit<RuleContext, 'phase'> = {
    model: prepared.model,
    plan,
    selectors,
    encodings: carried?.encodings ?? new Map(),
    frozen: carried?.frozen ?? new Set(),
    changes,
    recalibrate: state.recalibrate ? 'all' : new Set(),
    schemeNames: [...services.plugins.schemes.keys()],
    backendNames: [
      ...new Set([
        ...registeredBackends(backendContainer(services)).map((b) => b.name),
        ...(services.backendInstance ? [services.backendInstance.name] : []),
      ]),
    ],
    backend: state.backend.name,
  };
  services.plugins.check('plan', context, services.warn);
  if (carried?.plan) services.plugins.check('edit', context, services.warn);
  return { plan, prepared, selectors, changes, state, services, context, carried };
}

/** Carried encodings: from `sim.edit()`, or loaded from a file and matched against `plan`. */
function carriedEncodings(plan: QuantPlan, services: BuilderServices, graph: GraphView): CarriedEncodings | undefined {
  const loaded = services.loaded;
  if (!loaded) return services.carried;
  const matched = matchEncodings(plan, loaded.parsed, {
    strict: loaded.strict,
    rankOf: (t) => graph.tensor(t)?.shape?.length,
    int32Biases: int32BiasLinks(graph, plan),
  });
  for (const m of matched.mismatches)
    services.warn(`quantsim: loadEncodings(${loaded.parsed.source}, { strict: false }): ${m.message}`);
  return {
    plan: undefined,
    encodings: matched.encodings,
    frozen: loaded.freeze ? new Set(matched.encodings.keys()) : new Set(),
  };
}

/**
 * Encodings to keep as they are: frozen ones, and after `sim.edit()` those whose quantizer did
 * not change (`all`: every carried encoding of an enabled quantizer). Loaded encodings that are
 * not frozen are recomputed by calibration.
 */
function keptEncodings(resolved: ResolvedPlan, all = false): Map<string, Encoding> {
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

/**
 * The entry of calibration threads: from sources (tests, tsx) a boot file that registers tsx,
 * from the build the compiled worker.
 */
const THREAD_WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './thread-worker-boot.mjs' : './thread-worker.js',
  import.meta.url,
).href;

/**
 * Runs the `calibrate` rules, then gathers the statistics the plan needs that no kept encoding
 * covers: in this thread, or with `workers` over worker threads running the same job.
 */
export async function gatherStats(
  state: BuilderState,
  services: BuilderServices,
  data: CalibrationData,
  options: ThreadCalibrateOptions,
): Promise<CalibrationStats> {
  const workers = requestedWorkers(options.workers);
  const { resolved, backend, requests } = await statisticsPass(state, services, options);
  if (workers > 1 && requests.length > 0)
    return collectStatsOnThreads(
      statisticsJobOf(resolved, backend, requests, options, postTrainingSamples(state.postTraining)),
      resolved.prepared.graph,
      data,
      workers,
      options,
      services.warn,
      THREAD_WORKER,
    );
  return collectStats(resolved, backend, requests, data, options);
}

/** The builder's statistics pass as plain data, for other threads or machines (`openStatisticsJob`). */
export async function statisticsJob(
  state: BuilderState,
  services: BuilderServices,
  options: Pick<CalibrateOptions, 'histogramStride' | 'nonFinite'>,
): Promise<StatisticsJob> {
  const { resolved, backend, requests } = await statisticsPass(state, services, options);
  return statisticsJobOf(resolved, backend, requests, options, postTrainingSamples(state.postTraining));
}

/** Resolves the plan, runs the `calibrate` rules, and lists the tensors to gather statistics of. */
async function statisticsPass(
  state: BuilderState,
  services: BuilderServices,
  options: Pick<CalibrateOptions, 'histogramStride'>,
): Promise<{ resolved: ResolvedPlan; backend: Backend; requests: StatisticsJob['requests'] }> {
  const resolved = await resolve(state, services);
  services.plugins.check('calibrate', resolved.context, services.warn);
  const bodies = resolved.plan.skipped.flatMap((s) => (s.subgraph ? [s] : []));
  if (bodies.length > 0)
    services.warn(
      `quantsim: calibrate(): ${bodies.length} Loop/Scan bod${bodies.length === 1 ? 'y is' : 'ies are'} not quantized (${bodies
        .map((s) => `${s.tensor}, ${s.subgraph?.nodes} nodes`)
        .join(
          '; ',
        )}): quantsim quantizes inside If branches but not yet inside Loop or Scan bodies, so everything they compute stays float and the simulation measures only the quantizers outside them. plan.toTable() lists them.`,
    );
  const backend = await selectBackend(state, services);
  const skip = new Set(keptEncodings(resolved).keys());
  const requests = statisticsRequests(resolved, services.plugins.schemes, skip, options.histogramStride);
  return { resolved, backend, requests };
}

function statisticsJobOf(
  resolved: ResolvedPlan,
  backend: Backend,
  requests: StatisticsJob['requests'],
  options: Pick<CalibrateOptions, 'nonFinite'>,
  samplesForPostTraining: number,
): StatisticsJob {
  return {
    postTrainingSamples: samplesForPostTraining,
    model: resolved.prepared.model.toBytes({ inlineExternal: true }),
    requests,
    backend: { name: backend.name, ...(backend.recipe ? { recipe: backend.recipe } : {}) },
    nonFinite: options.nonFinite ?? 'error',
  };
}

/**
 * A simulation from statistics (`stats`) or, without them, from the carried encodings only.
 * With statistics, `.seqMse()` and `.biasCorrection()` run on `samples` (calibration samples).
 */
export async function simulation(
  state: BuilderState,
  services: BuilderServices,
  stats: CalibrationStats | undefined,
  edit: EditBuilder,
  samples: readonly FeedsLike[] = [], // post-training samples
): Promise<QuantSim> {
  const resolved = await resolve(state, services);
  if (!stats) {
    const stale = findStaleEncodings(resolved.plan, keptEncodings(resolved, true));
    if (stale.length > 0) throw new StaleEncodingsError('simulate()', stale);
  }
  const backend = await selectBackend(state, services);
  const computed = stats
    ? computeEncodings(resolved.plan, resolved.prepared, stats, services.plugins.schemes, keptEncodings(resolved))
    : keptEncodings(resolved, true);
  // Branch activations no sample ran stay float; without statistics, those recorded before `sim.edit()` do.
  const unrun = stats
    ? unrunBranchQuantizers(resolved.plan, stats, computed, services.warn)
    : new Set([...(resolved.carried?.unrun ?? [])].filter((id) => !computed.has(id)));
  // Post-training: `.seqMse()` and `.biasCorrection()` run after calibration, on the samples kept.
  const schemes = services.plugins.schemes;
  let steps = stats ? effectiveSteps(state.postTraining) : undefined;
  if (steps?.defaultBiasCorrection && samples.length === 0) {
    // fromStats(stats) without samples: the default bias correction cannot run; say so.
    services.warn(
      'Bias correction (on by default) was skipped: fromStats(stats) got no calibration samples. ' +
        'Pass the first samples as its second argument, or call .biasCorrection(false) to turn it off.',
    );
    const { biasCorrection: _skipped, ...others } = steps;
    steps = others;
  }
  // Without statistics, biases corrected before `sim.edit()` are carried over, not recomputed.
  const base = stats ? resolved.prepared : withCarriedBiases(resolved.prepared, resolved.carried?.biases);
  const ptq = await applyPostTraining({ ...resolved, prepared: base, encodings: computed, backend, schemes, samples }, steps);
  return new QuantSim(
    {
      plan: resolved.plan,
      prepared: ptq.prepared, // post-training: biases corrected
      encodings: ptq.encodings, // post-training: seqMse weight encodings
      backend,
      mode: state.mode,
      frozen: resolved.carried?.frozen ?? new Set(),
      unrun,
      // post-training report (carried on from before `sim.edit()` when its biases were)
      postTraining:
        base !== resolved.prepared && resolved.carried?.biasCorrection
          ? { ...ptq.report, biasCorrection: resolved.carried.biasCorrection }
          : ptq.report,
      ...(ptq.prepared !== resolved.prepared ? { reference: resolved.prepared.model } : {}), // float before bias correction
    },
    {
      edit,
      checkExport: (exported: EncodingMap) =>
        services.plugins.check('export', { ...resolved.context, encodings: exported }, services.warn),
    },
  );
}

/** The prepared model with carried corrected biases written in (a copy), or itself when there are none. */
function withCarriedBiases(prepared: PreparedModel, biases: ReadonlyMap<string, Float32Array> | undefined): PreparedModel {
  if (!biases || biases.size === 0) return prepared;
  const model = prepared.model.clone();
  for (const [name, values] of biases) {
    const tensor = model.constantTensor(name);
    if (tensor && tensor.dims.reduce((a, b) => a * Number(b), 1) === values.length) overwriteWeights(tensor, values);
  }
  return { ...prepared, model, graph: model.graph };
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

/**
 * Activation quantizers of If branches that no calibration sample ran get no encoding (they stay
 * float); says which branches, and how to calibrate them.
 * @returns their ids.
 */
function unrunBranchQuantizers(
  plan: ResolvedPlan['plan'],
  stats: CalibrationStats,
  encodings: ReadonlyMap<string, unknown>,
  warn: (message: string) => void,
): Set<string> {
  const ids = new Set<string>();
  const scopes = new Map<string, number>();
  for (const q of plan.quantizers)
    if (
      q.enabled &&
      q.scope !== undefined &&
      q.kind !== 'param' &&
      !encodings.has(q.id) &&
      stats.tensors[q.tensor]?.count === 0
    ) {
      ids.add(q.id);
      scopes.set(q.scope, (scopes.get(q.scope) ?? 0) + 1);
    }
  if (scopes.size === 0) return ids;
  warn(
    `quantsim: calibrate(): no calibration sample ran ${[...scopes].map(([s, n]) => `${s} (${n} activation quantizer${n === 1 ? '' : 's'})`).join(', ')}: ` +
      'those quantizers get no encoding and stay float. Add calibration samples that take that branch (for example the other sample rate of a model that branches on it).',
  );
  return ids;
}
