import {
  type CalibrationData,
  createSwitchableSim,
  type FeedsLike,
  InvalidArgumentError,
  nodeWithBranches,
  type QuantBuilder,
  type SwitchGroup,
  type SwitchSetting,
} from '@quantsim/core';
import { sameOutputs, sampleOutputs, stackedOutputs } from './batching.js';
import type { AnalysisEvaluation, Configuration, ConfigurationEvaluator } from './configuration-evaluator.js';
import {
  lossOf,
  type OutputsOf,
  outputSqnrScorer,
  type SampleMetric,
  type Scorer,
  sampleMetricScorer,
  throwIfAborted,
} from './evaluation.js';
import { type AnalysisFinding, activationRangeSuspects, badness, findAnalysisFindings, perChannelSuspects } from './findings.js';
import { QuantAnalysisReport } from './quant-report.js';
import { screenBlocks, screeningPays } from './screening.js';

/** Layers per first block of the screening. */
const SCREENING_BLOCK = 8;
/** A screened block this far (dB of output SQNR) above the worst layer alone is not split. */
const NEGLIGIBLE_DB = 20;
/** For a user metric: a block with at most this share of the worst layer's loss is not split. */
const NEGLIGIBLE_SHARE = 0.01;

/** Progress of {@link analyze}: configurations measured so far. */
export interface AnalyzeProgress {
  readonly step: string;
  readonly done: number;
  readonly total: number;
}

/** Options of {@link analyze}. */
export interface AnalyzeOptions {
  /** Calibration data, as `calibrate()` takes it. */
  readonly calibration: CalibrationData;
  /** Samples every configuration is scored on. */
  readonly evaluation: readonly FeedsLike[];
  /** A per-sample score, averaged over the samples (default: output SQNR against float, in dB). */
  readonly metric?: SampleMetric;
  /** Whether a larger metric is better (default `higher`). */
  readonly better?: 'higher' | 'lower';
  /** The metric's name, for the report (default `metric`). */
  readonly metricName?: string;
  /** The metric's unit, for the report (for example `%`; default none). */
  readonly metricUnit?: string;
  /** What calibration does with NaN and ±Infinity activations, as `calibrate()`'s `nonFinite` (default `error`). */
  readonly nonFinite?: 'error' | 'ignore';
  readonly onProgress?: (progress: AnalyzeProgress) => void;
  /** Stops between configurations with an `ABORTED` error. */
  readonly signal?: AbortSignal;
  /**
   * Evaluation samples run this many at a time, stacked along the batch axis, when the model
   * allows it (checked against single runs once). Default 8; 1 runs one sample at a time.
   */
  readonly batchSize?: number;
  /**
   * Worker threads over which each configuration's runs are shared, each with its own session of
   * the switchable model (`'auto'`: one per core; default 1, this thread). Scores are the same as
   * in one thread. Each thread holds its own copy of the session (about 300–330 MiB on the
   * recognizer); the count is capped to what fits in free memory, with a warning.
   */
  readonly workers?: number | 'auto';
  /**
   * Per-layer weights-only, activations-only and 16-bit scores are measured for this many of
   * the worst layers (and for every layer a finding needs); the others are `undefined`. Default 16.
   */
  readonly detailedLayers?: number;
  /**
   * How "only this layer quantized" is found. `'screened'` (default): layers are first quantized
   * in blocks of 8 neighbours, and only the blocks that come out worst are split, until the
   * `detailedLayers` worst are measured alone (blocks 20 dB of output SQNR better than the worst
   * layer alone, or with 1 % of its loss for a user metric, are not split) (a block's score bounds its layers' to the extent
   * that quantization noises add: on the test's deep model, 74 of 77); so are the `detailedLayers` that leaving in float helps most and those a finding
   * looks at. The others keep their block's score, marked in {@link LayerAnalysis.screened}.
   * "Everything but this layer" is measured for every layer either way. Models too small for the
   * screening to save configurations are measured exhaustively. `'exhaustive'`: every layer
   * alone, as AIMET's QuantAnalyzer.
   */
  readonly search?: 'screened' | 'exhaustive';
  /**
   * Where configurations are scored (default: this process, on the switchable simulation's
   * session or threads). `analyzeOnQueue` in `@quantsim/distributed` passes one that sends them
   * to queue workers. Called once, after the float reference; released at the end.
   */
  readonly evaluator?: (evaluation: AnalysisEvaluation) => Promise<ConfigurationEvaluator>;
}

/** One layer (or supergroup) of the analysis. Scores are in the metric's unit. */
export interface LayerAnalysis {
  /** The layer that owns the quantizers (the first layer of a supergroup). */
  readonly layer: string;
  readonly opType: string | undefined;
  /** Quantizer ids of this layer. */
  readonly quantizers: readonly string[];
  /** Bitwidths of the plan: `W8` / `A8`, `-` when none. */
  readonly bitwidths: { readonly params: string; readonly activations: string };
  /** Only this layer's parameters quantized (undefined: it has none, or it was not among the detailed layers). */
  readonly weightsOnly: number | undefined;
  /** Only this layer's activation quantizers on (undefined: it has none, or it was not among the detailed layers). */
  readonly activationsOnly: number | undefined;
  /** Only this layer quantized, everything else float. */
  readonly onlyThisQuantized: number;
  /** Everything quantized but this layer. */
  readonly allButThisQuantized: number;
  /**
   * Set when `onlyThisQuantized` is a block's score, from the screening (`search: 'screened'`):
   * the layers quantized together (this one included). This layer alone does at least as well,
   * to the extent that quantization noises add (they do closely when only a few layers are
   * quantized; the worst layers are always measured alone).
   */
  readonly screened?: { readonly onlyThisQuantized: readonly string[] };
  /** Everything quantized, this layer at 16 bits (undefined: not among the layers that leaving in float helps most). */
  readonly sixteenBit: number | undefined;
  /**
   * How much this layer costs alone, larger is worse: the loss of `onlyThisQuantized` against
   * float; for output SQNR (float is +∞), −SQNR in dB, the noise-to-signal ratio it adds.
   */
  readonly loss: number;
  readonly findings: readonly AnalysisFinding[];
}

/** Scores of the whole model. */
export interface ModelScores {
  readonly float: number;
  readonly quantized: number;
  readonly weightsOnly: number;
  readonly activationsOnly: number;
  readonly all16: number;
}

/**
 * Per-layer quantization analysis in the manner of AIMET's QuantAnalyzer, run in one ONNX
 * Runtime session: the builder's plan is calibrated once, a 16-bit and a per-channel variant are
 * encoded from the same statistics, and every configuration (float, quantized, weights only,
 * activations only, each layer alone, each layer left out, each layer at 16 bits) is a setting of
 * the switches of one {@link createSwitchableSim | switchable simulation}, without bias correction
 * (even when the builder asks for it), since every configuration shares the one model. Findings name the
 * cause and the fix: per-tensor weights whose channel ranges differ widely, outlier-dominated
 * activation ranges, layers that 16 bits recover, quantizers on near-constant outputs.
 *
 * ### Examples
 * ```ts
 * const report = await analyze(quant('model.onnx'), { calibration, evaluation });
 * console.log(report.layers[0], report.findings);
 * await report.writeHtml('out/report.html');
 * ```
 * @throws InvalidArgumentError without evaluation samples.
 */
export async function analyze(given: QuantBuilder, options: AnalyzeOptions): Promise<QuantAnalysisReport> {
  const started = Date.now();
  // Every configuration shares one switchable model, so none may rewrite biases: the analysis
  // measures the quantizers themselves, without `.biasCorrection()` even when the builder has it.
  const builder = given.biasCorrection(false);
  const samples = options.evaluation;
  if (!Array.isArray(samples) || samples.length === 0)
    throw new InvalidArgumentError('analyze: `evaluation` must be a non-empty array of feeds.', {
      hint: 'Pass a few samples, e.g. evaluation: samples.slice(0, 32).',
    });
  const stats = await builder.collectStats(options.calibration, options.nonFinite ? { nonFinite: options.nonFinite } : {});
  const sim = await builder.fromStats(stats);
  const sim16 = await builder.activations(16).params(16).fromStats(stats);
  const simPc = await builder.perChannel().fromStats(stats);
  let evaluator: ConfigurationEvaluator | undefined;
  const switchable = await createSwitchableSim(
    [
      { name: 'plan', sim },
      { name: 'W16A16', sim: sim16 },
      { name: 'per-channel', sim: simPc },
    ],
    options.workers === undefined ? {} : { workers: options.workers },
  );
  try {
    const batchSize = options.batchSize ?? 8;
    let outputsOf: OutputsOf = sampleOutputs(samples);
    let reference = await outputsOf((f) => sim.runFloat(f));
    let runBatch = 1;
    const stacked = stackedOutputs(samples, batchSize, sim.floatModel.graph);
    if (stacked) {
      // A model that cannot take the stacked batch runs one sample at a time.
      const stackedReference = await stacked((f) => sim.runFloat(f)).catch(() => undefined);
      if (stackedReference && sameOutputs(reference, stackedReference)) {
        outputsOf = stacked;
        reference = stackedReference;
        runBatch = batchSize;
      }
    }
    const scorer: Scorer = options.metric
      ? sampleMetricScorer(samples, options.metric, options.better ?? 'higher', options.metricName, options.metricUnit)
      : outputSqnrScorer(reference);
    const evaluation = { switchable, samples, batchSize: runBatch, reference, scorer };
    evaluator = options.evaluator ? await options.evaluator(evaluation) : inProcess(outputsOf, evaluation);
    const bad = (v: number) => badness(scorer, v);
    const groups = switchable.groups;
    const units = unitsOf(groups);
    const detailed = Math.max(0, options.detailedLayers ?? 16);
    const slots = new Map(sim.prepared.placement.slots.map((q) => [q.id, q.channelAxis]));
    const rangeSuspects = perChannelSuspects(sim.plan, sim.floatModel, units, (id) => slots.get(id));
    const activationSuspects = activationRangeSuspects(sim.plan, stats, units);
    const keep = Math.max(1, detailed);
    const screened = (options.search ?? 'screened') === 'screened' && screeningPays(units.length, SCREENING_BLOCK, keep);
    // Screening's rounds depend on the scores: its total is an estimate, refined as it goes.
    const perLayerTotal = screened ? units.length + Math.ceil(units.length / SCREENING_BLOCK) + 3 * keep : 2 * units.length;
    let total = 4 + perLayerTotal + 3 * Math.min(detailed, units.length) + rangeSuspects.size;
    let done = 0;
    const scoring: ConfigurationEvaluator = evaluator;
    // Configurations go to the evaluator in lists (those whose choice does not depend on each
    // other's scores), so that an evaluator elsewhere can score them at once.
    const measureAll = async (configurations: readonly Configuration[]): Promise<number[]> => {
      throwIfAborted(options.signal, 'The analysis', done, total);
      const first = configurations[0];
      if (!first) return [];
      options.onProgress?.({ step: first.step, done, total });
      return scoring.score(configurations, (i) => {
        done++;
        total = Math.max(total, done);
        options.onProgress?.({ step: (configurations[i] as Configuration).step, done, total });
        if (i < configurations.length - 1) throwIfAborted(options.signal, 'The analysis', done, total);
      });
    };
    const measure = async (step: string, setting: SwitchSetting): Promise<number> =>
      (await measureAll([{ step, setting }]))[0] as number;
    const set = (choose: (g: SwitchGroup) => number | undefined) => switchable.setting(choose);
    const [quantized, weightsOnly, activationsOnly, all16] = (await measureAll([
      { step: 'all quantized', setting: set(() => 0) },
      { step: 'weights only', setting: set((g) => (g.kind === 'params' ? 0 : undefined)) },
      { step: 'activations only', setting: set((g) => (g.kind === 'activations' ? 0 : undefined)) },
      { step: 'all at 16 bits', setting: set(() => 1) },
    ])) as [number, number, number, number];
    const model: ModelScores = {
      float: options.metric ? scorer.score(reference) : Number.POSITIVE_INFINITY,
      quantized,
      weightsOnly,
      activationsOnly,
      all16,
    };
    const mine = (u: Unit) => (g: SwitchGroup) => g.unit === u.name;
    const only = new Map<string, number>();
    const allBut = new Map<string, number>();
    const onlyBlock = new Map<string, readonly string[]>();
    if (!screened) {
      const alone = await measureAll(
        units.flatMap((u) => [
          { step: `only ${u.name} quantized`, setting: set((g) => (mine(u)(g) ? 0 : undefined)) },
          { step: `all but ${u.name}`, setting: set((g) => (mine(u)(g) ? undefined : 0)) },
        ]),
      );
      for (const [i, u] of units.entries()) {
        only.set(u.name, alone[2 * i] as number);
        allBut.set(u.name, alone[2 * i + 1] as number);
      }
    } else {
      const within = (block: readonly Unit[]) => {
        const names = new Set(block.map((u) => u.name));
        return (g: SwitchGroup) => names.has(g.unit);
      };
      const onlyBlocks = await screenBlocks({
        units,
        blockSize: SCREENING_BLOCK,
        keep,
        interest: bad,
        // A block 20 dB above the worst layer alone (1 % of its noise), or with 1 % of its loss
        // for a user metric, holds no layer that matters next to it: it is not split.
        negligible: (block, worst) =>
          options.metric
            ? lossOf(scorer, model.float, block) <= NEGLIGIBLE_SHARE * lossOf(scorer, model.float, worst)
            : bad(worst) - bad(block) >= NEGLIGIBLE_DB,
        measure: (blocks) =>
          measureAll(
            blocks.map((b) => ({ step: `only ${blockLabel(b)} quantized`, setting: set((g) => (within(b)(g) ? 0 : undefined)) })),
          ),
      });
      for (const b of onlyBlocks)
        for (const u of b.units) {
          only.set(u.name, b.score);
          if (b.units.length > 1)
            onlyBlock.set(
              u.name,
              b.units.map((m) => m.name),
            );
        }
      // "All but" is measured for every layer: with everything else quantized, noises interact
      // (leaving a block in float can score below leaving one of its layers), so blocks bound nothing.
      const butScores = await measureAll(
        units.map((u) => ({ step: `all but ${u.name}`, setting: set((g) => (mine(u)(g) ? undefined : 0)) })),
      );
      for (const [i, u] of units.entries()) allBut.set(u.name, butScores[i] as number);
      // The layers that matter get their own "only this" score: those that leaving in float helps
      // most (the worst alone already have theirs), and those whose activation range a finding
      // names (its loss is that score), and per-channel suspects without activations (their
      // weights-only score is that score; the others get one of their own below).
      const wanted = new Set(rankedBy(units, allBut, (v) => -bad(v)).slice(0, keep));
      for (const u of units) if (activationSuspects.has(u.name) || (rangeSuspects.has(u.name) && !u.activations)) wanted.add(u);
      const exact: Configuration[] = [];
      const exactUnits: Unit[] = [];
      for (const u of units)
        if (wanted.has(u) && onlyBlock.has(u.name)) {
          exact.push({ step: `only ${u.name} quantized`, setting: set((g) => (mine(u)(g) ? 0 : undefined)) });
          exactUnits.push(u);
        }
      total = done + exact.length + 3 * Math.min(detailed, units.length) + rangeSuspects.size;
      const exactScores = await measureAll(exact);
      for (const [i, u] of exactUnits.entries()) {
        only.set(u.name, exactScores[i] as number);
        onlyBlock.delete(u.name);
      }
    }
    // Details for the layers that matter: the worst alone, and those whose absence helps most.
    const worstAlone = new Set(
      rankedBy(units, only, bad)
        .slice(0, detailed)
        .map((u) => u.name),
    );
    for (const name of rangeSuspects) worstAlone.add(name);
    const mostHelped = new Set(
      rankedBy(units, allBut, (v) => -bad(v))
        .slice(0, detailed)
        .map((u) => u.name),
    );
    const split = (u: Unit) => worstAlone.has(u.name) && u.params && u.activations;
    const details: (Configuration & { unit: string; of: 'weights' | 'activations' | '16 bits' })[] = [];
    for (const u of units) {
      if (split(u)) {
        const onlyKind = (kind: SwitchGroup['kind']) => set((g) => (mine(u)(g) && g.kind === kind ? 0 : undefined));
        details.push({ unit: u.name, of: 'weights', step: `only ${u.name} weights`, setting: onlyKind('params') });
        details.push({ unit: u.name, of: 'activations', step: `only ${u.name} activations`, setting: onlyKind('activations') });
      }
      if (mostHelped.has(u.name))
        details.push({ unit: u.name, of: '16 bits', step: `${u.name} at 16 bits`, setting: set((g) => (mine(u)(g) ? 1 : 0)) });
    }
    const detailScores = await measureAll(details);
    const detail = (u: Unit, of: (typeof details)[number]['of']) => {
      const i = details.findIndex((d) => d.unit === u.name && d.of === of);
      return i < 0 ? undefined : detailScores[i];
    };
    const perLayer: Omit<LayerAnalysis, 'findings'>[] = [];
    for (const u of units) {
      const o = only.get(u.name) as number;
      // A block's score is no layer's own weights-only or activations-only score.
      const own = onlyBlock.has(u.name) ? undefined : o;
      const weightsOnly = !u.params ? undefined : !u.activations ? own : detail(u, 'weights');
      const activationsOnly = !u.activations ? undefined : !u.params ? own : detail(u, 'activations');
      const sixteenBit = detail(u, '16 bits');
      const spec = sim.plan.get(u.quantizers[0] as string);
      const graph = sim.floatModel.graph;
      perLayer.push({
        layer: u.name,
        opType:
          nodeWithBranches(graph, u.name)?.opType ?? (spec?.layer ? nodeWithBranches(graph, spec.layer)?.opType : undefined),
        quantizers: u.quantizers,
        bitwidths: bitwidthsOf(sim.plan, u.quantizers),
        weightsOnly,
        activationsOnly,
        onlyThisQuantized: o,
        allButThisQuantized: allBut.get(u.name) as number,
        ...(onlyBlock.has(u.name) ? { screened: { onlyThisQuantized: onlyBlock.get(u.name) as readonly string[] } } : {}),
        sixteenBit,
        loss: Number.isFinite(model.float) ? lossOf(scorer, model.float, o) : bad(o),
      });
    }
    const findings = await findAnalysisFindings({
      plan: sim.plan,
      model: sim.floatModel,
      stats,
      scorer,
      scores: model,
      layers: perLayer,
      channelAxis: (id) => slots.get(id),
      perChannelScore: async (layer) =>
        measure(
          `only ${layer} weights, per channel`,
          set((g) => (g.unit === layer && g.kind === 'params' ? 2 : undefined)),
        ),
    });
    const layers: LayerAnalysis[] = perLayer
      .map((l) => ({ ...l, findings: findings.filter((f) => f.layer === l.layer) }))
      .sort((a, b) => b.loss - a.loss || bad(a.allButThisQuantized) - bad(b.allButThisQuantized));
    return new QuantAnalysisReport({
      metric: { name: scorer.name, unit: scorer.unit, better: scorer.better, samples: samples.length },
      model,
      layers,
      findings: [...findings].sort((a, b) => b.loss - a.loss),
      configurations: done,
      search: screened ? 'screened' : 'exhaustive',
      elapsedMs: Date.now() - started,
    });
  } finally {
    await evaluator?.release();
    await switchable.release();
    await sim.release();
    await sim16.release();
    await simPc.release();
  }
}

interface Unit {
  readonly name: string;
  readonly quantizers: string[];
  params: boolean;
  activations: boolean;
}

/** Scores configurations here: one after another, each one's runs shared by the switchable simulation's threads. */
function inProcess(outputsOf: OutputsOf, { switchable, scorer }: AnalysisEvaluation): ConfigurationEvaluator {
  return {
    async score(configurations, onScored) {
      const scores: number[] = [];
      for (const [i, c] of configurations.entries()) {
        // The float reference ran one run at a time in this thread; configurations run on the
        // switchable simulation, as many at once as it has threads.
        scores.push(scorer.score(await outputsOf((f) => switchable.run(f, c.setting), switchable.concurrency)));
        onScored?.(i);
      }
      return scores;
    },
    release: async () => undefined,
  };
}

/** Units by score, the largest `interest` first (graph order among ties). */
function rankedBy(units: readonly Unit[], scores: ReadonlyMap<string, number>, interest: (v: number) => number): Unit[] {
  const key = (u: Unit) => {
    const v = interest(scores.get(u.name) as number);
    return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
  };
  return units
    .map((u, i) => ({ u, i }))
    .sort((a, b) => key(b.u) - key(a.u) || a.i - b.i)
    .map((e) => e.u);
}

function blockLabel(block: readonly Unit[]): string {
  const first = block[0]?.name ?? '';
  return block.length === 1 ? first : `${first} … ${block[block.length - 1]?.name} (${block.length} layers)`;
}

function unitsOf(groups: readonly SwitchGroup[]): Unit[] {
  const units = new Map<string, Unit>();
  for (const g of groups) {
    let u = units.get(g.unit);
    if (!u) {
      u = { name: g.unit, quantizers: [], params: false, activations: false };
      units.set(g.unit, u);
    }
    u.quantizers.push(...g.quantizers);
    if (g.kind === 'params') u.params = true;
    else u.activations = true;
  }
  return [...units.values()];
}

function bitwidthsOf(
  plan: { get(id: string): { kind: string; bitwidth: number; dtype: string; enabled: boolean } | undefined },
  ids: readonly string[],
): { params: string; activations: string } {
  const text = (kind: 'param' | 'act', prefix: string) => {
    const bits = new Set<string>();
    for (const id of ids) {
      const q = plan.get(id);
      if (!q?.enabled || (kind === 'param') !== (q.kind === 'param')) continue;
      bits.add(q.dtype === 'float' ? `fp${q.bitwidth}` : `${prefix}${q.bitwidth}`);
    }
    return bits.size === 0 ? '-' : [...bits].join('/');
  };
  return { params: text('param', 'W'), activations: text('act', 'A') };
}
