import type { DependencyContainer } from 'tsyringe';
import { createBackendContainer, registerBackend, registeredBackends } from '../backend/backend-container.js';
import { resolveBackend } from '../backend/resolve-backend.js';
import { collectStats, statisticsRequests } from '../calibrate/collect.js';
import type { CalibrationData } from '../calibrate/feeds.js';
import type { Backend } from '../contracts/backend.js';
import type { CalibrateOptions, CalibrationStats } from '../contracts/calibration.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import type { QuantizerChange, RuleContext } from '../contracts/rule.js';
import { computeEncodings } from '../encode/compute-encodings.js';
import { matchEncodings } from '../export/match-encodings.js';
import type { QuantPlan } from '../plan/plan.js';
import { resolvePlan } from '../plan/resolve.js';
import { QUANTIZER_FIELDS } from '../plan/spec.js';
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
  const prepared = services.prepared.get(model, state.foldBatchNorms, state.config?.supergroups ?? []);
  const { plan, selectors } = resolvePlan({
    graph: prepared.graph,
    placement: prepared.placement,
    defaults: state.defaults,
    config: state.config,
    overrides: state.overrides,
    functions: services.functions,
    foldedInto: prepared.foldedInto,
  });
  const carried = carriedEncodings(plan, services);
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
function carriedEncodings(plan: QuantPlan, services: BuilderServices): CarriedEncodings | undefined {
  const loaded = services.loaded;
  if (!loaded) return services.carried;
  const matched = matchEncodings(plan, loaded.parsed, { strict: loaded.strict });
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

/** Runs the `calibrate` rules, then gathers the statistics the plan needs that no kept encoding covers. */
export async function gatherStats(
  state: BuilderState,
  services: BuilderServices,
  data: CalibrationData,
  options: CalibrateOptions,
): Promise<CalibrationStats> {
  const resolved = await resolve(state, services);
  services.plugins.check('calibrate', resolved.context, services.warn);
  const backend = await selectBackend(state, services);
  const skip = new Set(keptEncodings(resolved).keys());
  const requests = statisticsRequests(resolved, services.plugins.schemes, skip, options.histogramStride);
  return collectStats(resolved, backend, requests, data, options);
}

/** A simulation from statistics (`stats`) or, without them, from the carried encodings only. */
export async function simulation(
  state: BuilderState,
  services: BuilderServices,
  stats: CalibrationStats | undefined,
  edit: EditBuilder,
): Promise<QuantSim> {
  const resolved = await resolve(state, services);
  const backend = await selectBackend(state, services);
  const encodings = stats
    ? computeEncodings(resolved.plan, resolved.prepared, stats, services.plugins.schemes, keptEncodings(resolved))
    : keptEncodings(resolved, true);
  return new QuantSim(
    {
      plan: resolved.plan,
      prepared: resolved.prepared,
      encodings,
      backend,
      mode: state.mode,
      frozen: resolved.carried?.frozen ?? new Set(),
    },
    {
      edit,
      checkExport: (exported: EncodingMap) =>
        services.plugins.check('export', { ...resolved.context, encodings: exported }, services.warn),
    },
  );
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
