import {
  type BiasCorrectionOptions,
  type BiasCorrectionRecord,
  type CalibrationData,
  createSwitchableSim,
  type FeedsLike,
  InvalidArgumentError,
  keepFirstSamples,
  type QuantBuilder,
  type QuantSim,
  quantizerUnit,
  type SwitchableSim,
  type SwitchSetting,
  type TensorMap,
} from '@quantsim/core';
import { mapConcurrently } from '../analyzer/batching.js';
import type { AmpEvaluation, Configuration, ConfigurationEvaluator } from '../analyzer/configuration-evaluator.js';
import { throwIfAborted } from '../analyzer/evaluation.js';
import { type AmpCandidate, applyCandidate, candidateBits, candidateName, checkCandidates } from './candidates.js';
import { type AmpCostModel, costAt, unitCosts } from './cost.js';
import { type AmpPlanEntry, planBuilder, writePlanConfig } from './plan-config.js';

/** What `evaluate` receives: something that runs the model as configured, like `sim.run`. */
export interface AmpRunner {
  run(feeds: FeedsLike, fetches?: readonly string[]): Promise<TensorMap>;
}

/** Progress of {@link autoMixedPrecision}. */
export interface AmpProgress {
  readonly phase: 'sensitivity' | 'pareto' | 'final';
  readonly done: number;
  readonly total: number;
}

/** Options of {@link autoMixedPrecision}. */
export interface AmpOptions {
  readonly calibration: CalibrationData;
  /** The user's validation: a score of the model that `runner.run` runs. */
  readonly evaluate: (runner: AmpRunner) => Promise<number>;
  /**
   * The score of phase 1 (per-group sensitivity), for example `evaluate` on fewer samples, as
   * AIMET's `eval_callback_for_phase_1`. Default: `evaluate`.
   */
  readonly evaluatePhase1?: (runner: AmpRunner) => Promise<number>;
  readonly better: 'higher' | 'lower';
  /** Largest acceptable drop from the float score (in the score's unit). */
  readonly allowedDrop?: number;
  /** Or the score to reach. */
  readonly target?: number;
  /** Precisions a group may get; the cheapest is where AMP starts. */
  readonly candidates: readonly AmpCandidate[];
  /** Default `bops`. */
  readonly cost?: AmpCostModel;
  readonly onProgress?: (progress: AmpProgress) => void;
  /**
   * Worker threads, each with its own session of the switchable model (`'auto'`: one per core;
   * default 1, this thread). The per-group probes of phase 1 run as many at once, so `evaluate`
   * is then called concurrently; the search and its result are the same as in one thread. The
   * count is capped to what fits in free memory (the first thread's cost is measured), with a
   * warning.
   */
  readonly workers?: number | 'auto';
  /**
   * Bias correction: each candidate's simulation (every group at that candidate) gets its own, on
   * the first calibration samples, and in every plan a group runs on the biases of its candidate
   * (they switch with the group's weights). Absent: the builder's setting (on by default with 16
   * samples, as `calibrate`; `.biasCorrection(false)` turns it off here too); `false`: every plan
   * without it.
   */
  readonly biasCorrection?: BiasCorrectionOptions | false;
  readonly signal?: AbortSignal;
  /**
   * Where plans are scored (default: this process, `evaluate` and `evaluatePhase1` on the
   * switchable simulation). `autoMixedPrecisionOnQueue` in `@quantsim/distributed` passes one
   * that scores them on queue workers. Called once for `search` and, when `evaluatePhase1` is
   * given, once for `phase1`; released at the end. The float and final scores stay here.
   */
  readonly evaluator?: (evaluation: AmpEvaluation) => Promise<ConfigurationEvaluator>;
}

/** One point of the Pareto front: after a change, its relative cost and measured score. */
export interface AmpFrontPoint {
  /** Cost relative to everything at 32 bits (bops) or to float32 memory. */
  readonly cost: number;
  readonly score: number;
  /** Group → candidate name, for every group above the starting candidate. */
  readonly changes: Readonly<Record<string, string>>;
}

/** What {@link autoMixedPrecision} returns. */
export interface AmpResult {
  /**
   * The calibrated simulation of the chosen plan as it was scored (release it when done): each
   * group on the biases its candidate's bias correction gave. Calibrating the saved config
   * computes bias correction for the mixed plan itself instead, which can score a little
   * differently.
   */
  readonly sim: QuantSim;
  /** The chosen candidate per group (layer or supergroup), in plan order. */
  readonly plan: readonly AmpPlanEntry[];
  /** Every step of the greedy walk, cheapest first. */
  readonly front: readonly AmpFrontPoint[];
  readonly float: number;
  readonly target: number;
  /** The candidate every group starts from (the cheapest). */
  readonly start: AmpCandidate;
  /** The chosen plan's cost, in the front's unit: the front point with the same changes. */
  readonly cost: number;
  /** The chosen plan's score, measured on `sim`. */
  readonly score: number;
  readonly reached: boolean;
  /** Writes a config that `quant(model).config(path)` turns into this plan. */
  saveConfig(path: string): Promise<void>;
}

/**
 * Automatic mixed precision in the manner of AIMET's AMP. Phase 1 measures, for every group
 * (a layer with its parameters and outputs; a supergroup is one group) and every candidate
 * above the cheapest, the user's score with only that group raised. Phase 2 walks greedily,
 * taking at each step the raise with the best score gain per unit of cost, and evaluates the
 * user's score after each step, until the target is reached; then it drops raises that the
 * target does not need, dearest first. A raise phase 1 saw gain nothing still comes, after the
 * others, so the walk can reach every group at its dearest candidate. Every score comes from one
 * switchable session, each group on its candidate's bias correction. When the starting plan
 * already reaches the target, nothing is raised and phase 1 does not run.
 *
 * ### Examples
 * ```ts
 * const amp = await autoMixedPrecision(quant(model), {
 *   calibration, evaluate: async (sim) => accuracy(sim), better: 'higher', allowedDrop: 0.002,
 *   candidates: [{ activations: 8, params: 8 }, { activations: 16, params: 8 }, { activations: 16, params: 16 }],
 * });
 * await amp.saveConfig('out/plan.json');
 * ```
 * @throws InvalidArgumentError for bad candidates or without `allowedDrop`/`target`.
 */
export async function autoMixedPrecision(given: QuantBuilder, options: AmpOptions): Promise<AmpResult> {
  checkCandidates(options.candidates);
  if ((options.allowedDrop === undefined) === (options.target === undefined))
    throw new InvalidArgumentError('autoMixedPrecision takes exactly one of `allowedDrop` and `target`.', {
      hint: 'For example allowedDrop: 0.002 (from the float score) or target: 0.95.',
    });
  // Each candidate's simulation gets its own bias correction; in the switchable model a group's
  // biases switch with its candidate.
  const builder = given.biasCorrection(false);
  const asked = options.biasCorrection ?? given.state.postTraining?.biasCorrection ?? {};
  const correction = asked === false ? undefined : asked;
  const costModel = options.cost ?? 'bops';
  const higher = options.better === 'higher';
  const gain = (from: number, to: number) => (higher ? to - from : from - to);
  const meets = (score: number, target: number) => (higher ? score >= target : score <= target);

  const tee = keepFirstSamples(options.calibration, correction ? (correction.samples ?? 16) : 0);
  const stats = await builder.collectStats(tee.data);
  const sims: QuantSim[] = [];
  const candidateBuilder = correction ? given.biasCorrection(correction) : builder;
  for (const c of options.candidates) sims.push(await applyCandidate(candidateBuilder, c).fromStats(stats, tee.samples));
  const bits = options.candidates.map(candidateBits);
  // Candidates by whole-model cost; the cheapest is the start.
  const order = candidateOrder(sims[0] as QuantSim, costModel, bits);
  const base = order[0] as number;
  const first = sims[base] as QuantSim;
  let switchable: SwitchableSim;
  try {
    switchable = await createSwitchableSim(
      sims.map((sim, i) => ({ name: candidateName(options.candidates[i] as AmpCandidate), sim })),
      { groupOf: quantizerUnit, ...(options.workers === undefined ? {} : { workers: options.workers }) },
    );
  } catch (e) {
    for (const s of sims) await s.release();
    throw e;
  }
  const evaluators: ConfigurationEvaluator[] = [];
  try {
    const units = new Map<string, string[]>();
    for (const g of switchable.groups) units.set(g.name, [...g.quantizers]);
    const factors = unitCosts(first.floatModel.graph, first.plan, units);
    const unitCost = (u: string, c: number) =>
      costAt(costModel, factors.get(u) as never, bits[c]?.activations ?? 32, bits[c]?.params ?? 32);
    const unitNames = [...units.keys()];
    const fullCost = unitNames.reduce((s, u) => s + costAt(costModel, factors.get(u) as never, 32, 32), 0) || 1;
    const choice = new Map<string, number>(unitNames.map((u) => [u, base]));
    const planCost = () => unitNames.reduce((s, u) => s + unitCost(u, choice.get(u) as number), 0) / fullCost;
    const evaluatorOf = async (phase: AmpEvaluation['phase'], evaluate: AmpOptions['evaluate']) => {
      const made = options.evaluator ? await options.evaluator({ switchable, phase }) : inProcess(switchable, evaluate);
      evaluators.push(made);
      return made;
    };
    const search = await evaluatorOf('search', options.evaluate);
    const sensitivities = options.evaluatePhase1 ? await evaluatorOf('phase1', options.evaluatePhase1) : search;
    const score = async (step: string, setting: SwitchSetting) => (await search.score([{ step, setting }]))[0] as number;
    const phase1 = async (step: string, setting: SwitchSetting) => (await sensitivities.score([{ step, setting }]))[0] as number;

    const float = await options.evaluate({ run: (f, fetches) => first.runFloat(f, fetches) });
    const target = options.target ?? (higher ? float - (options.allowedDrop as number) : float + (options.allowedDrop as number));

    // Phase 1: per-group sensitivity of each candidate above the start (not needed when the start
    // already reaches the target).
    const baseScore = await score('the start', new Map(choice));
    const startMeets = meets(baseScore, target);
    const basePhase1 = options.evaluatePhase1 && !startMeets ? await phase1('phase 1: the start', new Map(choice)) : baseScore;
    const total = startMeets ? 0 : unitNames.length * (order.length - 1);
    let done = 0;
    const sensitivity = new Map<string, Map<number, number>>(
      unitNames.map((u) => [u, new Map<number, number>([[base, basePhase1]])]),
    );
    // Every (group, candidate) is independent: all go to the evaluator at once.
    const probes = startMeets ? [] : unitNames.flatMap((u) => order.slice(1).map((c) => ({ u, c })));
    throwIfAborted(options.signal, 'Automatic mixed precision', done, total);
    const probed = await sensitivities.score(
      probes.map(({ u, c }) => ({
        step: `phase 1: ${u} at ${candidateName(options.candidates[c] as AmpCandidate)}`,
        setting: new Map([...choice, [u, c]]),
      })),
      (i) => {
        options.onProgress?.({ phase: 'sensitivity', done: ++done, total });
        if (i < probes.length - 1) throwIfAborted(options.signal, 'Automatic mixed precision', done, total);
      },
    );
    for (const [i, { u, c }] of probes.entries()) sensitivity.get(u)?.set(c, probed[i] as number);

    // Phase 2: greedy walk along the estimated Pareto front, measuring the real score at each step.
    const changesNow = () =>
      Object.fromEntries(
        [...choice].filter(([, c]) => c !== base).map(([u, c]) => [u, candidateName(options.candidates[c] as AmpCandidate)]),
      );
    let current = baseScore;
    const front: AmpFrontPoint[] = [{ cost: planCost(), score: current, changes: {} }];
    let steps = 0;
    // The raise with the best phase-1 gain per unit of cost. One that phase 1 saw gain nothing
    // still comes, after the others: like AIMET's front, the walk can go on to every group at its
    // dearest candidate (phase 1 measures each raise alone, on few samples, and misses raises that
    // only help together).
    const bestRaise = () => {
      let best: { u: string; c: number; ratio: number } | undefined;
      for (const u of unitNames) {
        const now = choice.get(u) as number;
        const s = sensitivity.get(u) as Map<number, number>;
        for (const c of order) {
          const dc = unitCost(u, c) - unitCost(u, now);
          if (dc <= 0) continue;
          const dg = gain(s.get(now) as number, s.get(c) as number);
          const ratio = dg / dc;
          if (!best || ratio > best.ratio) best = { u, c, ratio };
        }
      }
      return best;
    };
    while (!meets(current, target)) {
      throwIfAborted(options.signal, 'Automatic mixed precision', steps, unitNames.length * order.length);
      const best = bestRaise();
      // Every group at its dearest candidate: the target is out of reach of these candidates.
      if (!best) break;
      choice.set(best.u, best.c);
      current = await score(
        `step ${steps + 1}: ${best.u} at ${candidateName(options.candidates[best.c] as AmpCandidate)}`,
        new Map(choice),
      );
      front.push({ cost: planCost(), score: current, changes: changesNow() });
      options.onProgress?.({ phase: 'pareto', done: ++steps, total: unitNames.length * (order.length - 1) });
    }
    // Drop raises the target does not need, dearest first.
    if (meets(current, target)) {
      const raised = unitNames
        .filter((u) => choice.get(u) !== base)
        .sort((a, b) => unitCost(b, choice.get(b) as number) - unitCost(a, choice.get(a) as number));
      for (const u of raised) {
        const was = choice.get(u) as number;
        for (const c of order) {
          if (unitCost(u, c) >= unitCost(u, was)) break;
          const trial = new Map(choice);
          trial.set(u, c);
          const s = await score(`dropping ${u} to ${candidateName(options.candidates[c] as AmpCandidate)}`, trial);
          if (meets(s, target)) {
            choice.set(u, c);
            current = s;
            front.push({ cost: planCost(), score: current, changes: changesNow() });
            break;
          }
        }
      }
    }

    front.sort((a, b) => a.cost - b.cost);

    const entries: AmpPlanEntry[] = unitNames.map((u) => ({
      group: u,
      quantizers: units.get(u) as string[],
      candidate: options.candidates[choice.get(u) as number] as AmpCandidate,
    }));
    const baseBuilder = applyCandidate(builder, options.candidates[base] as AmpCandidate);
    const plain = await planBuilder(baseBuilder, first.plan, entries).fromStats(stats);
    // As scored: each group on the biases its candidate's bias correction gave.
    const result = correction ? withChosenBiases(plain, sims, choice) : plain;
    if (result !== plain) await plain.release();
    options.onProgress?.({ phase: 'final', done: 1, total: 1 });
    const finalScore = await options.evaluate(result);
    return {
      sim: result,
      plan: entries,
      front,
      float,
      target,
      start: options.candidates[base] as AmpCandidate,
      cost: planCost(),
      score: finalScore,
      reached: meets(finalScore, target),
      saveConfig: (path) => writePlanConfig(path, result.plan),
    };
  } finally {
    for (const e of evaluators) await e.release();
    await switchable.release();
    for (const s of sims) await s.release();
  }
}

/** Candidate indices by whole-model cost, cheapest first (units: a plan's layers, as the switch groups). */
function candidateOrder(
  sim: QuantSim,
  costModel: AmpCostModel,
  bits: readonly { activations: number; params: number }[],
): number[] {
  const units = new Map<string, string[]>();
  for (const q of sim.plan.enabled) {
    const u = quantizerUnit(q);
    units.set(u, [...(units.get(u) ?? []), q.id]);
  }
  const factors = unitCosts(sim.floatModel.graph, sim.plan, units);
  const total = (c: number) =>
    [...units.keys()].reduce(
      (s, u) => s + costAt(costModel, factors.get(u) as never, bits[c]?.activations ?? 32, bits[c]?.params ?? 32),
      0,
    );
  return bits.map((_, i) => i).sort((a, b) => total(a) - total(b));
}

/** `plain` (the mixed plan without bias correction) on each group's biases from its chosen candidate's simulation. */
function withChosenBiases(plain: QuantSim, sims: readonly QuantSim[], choice: ReadonlyMap<string, number>): QuantSim {
  const unitOfLayer = new Map<string, string>();
  for (const q of plain.plan.quantizers) if (q.layer) unitOfLayer.set(q.layer, quantizerUnit(q));
  const biases = new Map<string, Float32Array>();
  const records: BiasCorrectionRecord[] = [];
  for (const [c, sim] of sims.entries())
    for (const r of sim.postTraining.biasCorrection ?? []) {
      if (choice.get(unitOfLayer.get(r.layer) ?? '') !== c) continue;
      const values = sim.prepared.model.constantValues(r.bias);
      if (!values) continue;
      biases.set(r.bias, values);
      records.push(r);
    }
  return plain.withBiases(biases, records);
}

/**
 * Scores plans here: `evaluate` on a runner of each setting, as many at once as the switchable
 * simulation has threads (so `evaluate` may then be called concurrently).
 */
function inProcess(switchable: SwitchableSim, evaluate: AmpOptions['evaluate']): ConfigurationEvaluator {
  const runner = (setting: SwitchSetting): AmpRunner => ({ run: (f, fetches) => switchable.run(f, setting, fetches) });
  return {
    async score(configurations: readonly Configuration[], onScored?: (index: number) => void) {
      const indexed = configurations.map((c, i) => ({ c, i }));
      return mapConcurrently(indexed, switchable.concurrency, async ({ c, i }) => {
        const v = await evaluate(runner(c.setting));
        onScored?.(i);
        return v;
      });
    },
    release: async () => undefined,
  };
}
