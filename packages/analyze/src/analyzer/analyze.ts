import {
  type CalibrationData,
  createSwitchableSim,
  type FeedsLike,
  InvalidArgumentError,
  type QuantBuilder,
  type SwitchGroup,
  type SwitchSetting,
  type TensorMap,
} from '@quantsim/core';
import { QuantAnalysisReport } from '../report/quant-report.js';
import { lossOf, outputSqnrScorer, type SampleMetric, type Scorer, sampleMetricScorer, throwIfAborted } from './evaluation.js';
import { type AnalysisFinding, badness, findAnalysisFindings } from './findings.js';

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
  readonly onProgress?: (progress: AnalyzeProgress) => void;
  /** Stops between configurations with an `ABORTED` error. */
  readonly signal?: AbortSignal;
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
  /** Only this layer's parameters quantized (undefined: it has none). */
  readonly weightsOnly: number | undefined;
  /** Only this layer's activation quantizers on (undefined: it has none). */
  readonly activationsOnly: number | undefined;
  /** Only this layer quantized, everything else float. */
  readonly onlyThisQuantized: number;
  /** Everything quantized but this layer. */
  readonly allButThisQuantized: number;
  /** Everything quantized, this layer at 16 bits. */
  readonly sixteenBit: number;
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
 * the switches of one {@link createSwitchableSim | switchable simulation}. Findings name the
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
export async function analyze(builder: QuantBuilder, options: AnalyzeOptions): Promise<QuantAnalysisReport> {
  const started = Date.now();
  const samples = options.evaluation;
  if (!Array.isArray(samples) || samples.length === 0)
    throw new InvalidArgumentError('analyze: `evaluation` must be a non-empty array of feeds.', {
      hint: 'Pass a few samples, e.g. evaluation: samples.slice(0, 32).',
    });
  const stats = await builder.collectStats(options.calibration);
  const sim = await builder.fromStats(stats);
  const sim16 = await builder.activations(16).params(16).fromStats(stats);
  const simPc = await builder.perChannel().fromStats(stats);
  const switchable = await createSwitchableSim([
    { name: 'plan', sim },
    { name: 'W16A16', sim: sim16 },
    { name: 'per-channel', sim: simPc },
  ]);
  try {
    const reference: TensorMap[] = [];
    for (const s of samples) reference.push(await sim.runFloat(s));
    const scorer: Scorer = options.metric
      ? sampleMetricScorer(samples, options.metric, options.better ?? 'higher', options.metricName)
      : outputSqnrScorer(samples, reference);
    const groups = switchable.groups;
    const units = unitsOf(groups);
    const total = 5 + units.reduce((n, u) => n + 3 + (u.params && u.activations ? 2 : 0), 0);
    let done = 0;
    const measure = async (step: string, setting: SwitchSetting): Promise<number> => {
      throwIfAborted(options.signal, 'The analysis', done, total);
      options.onProgress?.({ step, done, total });
      const v = await scorer.score((f) => switchable.run(f, setting));
      done++;
      options.onProgress?.({ step, done, total });
      return v;
    };
    const set = (choose: (g: SwitchGroup) => number | undefined) => switchable.setting(choose);
    const floatScore = options.metric ? await scoreFloat(scorer, sim.runFloat.bind(sim)) : Number.POSITIVE_INFINITY;
    done++;
    const model: ModelScores = {
      float: floatScore,
      quantized: await measure(
        'all quantized',
        set(() => 0),
      ),
      weightsOnly: await measure(
        'weights only',
        set((g) => (g.kind === 'params' ? 0 : undefined)),
      ),
      activationsOnly: await measure(
        'activations only',
        set((g) => (g.kind === 'activations' ? 0 : undefined)),
      ),
      all16: await measure(
        'all at 16 bits',
        set(() => 1),
      ),
    };
    const perLayer: Omit<LayerAnalysis, 'findings'>[] = [];
    for (const u of units) {
      const mine = (g: SwitchGroup) => g.unit === u.name;
      const only = await measure(
        `only ${u.name} quantized`,
        set((g) => (mine(g) ? 0 : undefined)),
      );
      const weightsOnly = !u.params
        ? undefined
        : !u.activations
          ? only
          : await measure(
              `only ${u.name} weights`,
              set((g) => (mine(g) && g.kind === 'params' ? 0 : undefined)),
            );
      const activationsOnly = !u.activations
        ? undefined
        : !u.params
          ? only
          : await measure(
              `only ${u.name} activations`,
              set((g) => (mine(g) && g.kind === 'activations' ? 0 : undefined)),
            );
      const allBut = await measure(
        `all but ${u.name}`,
        set((g) => (mine(g) ? undefined : 0)),
      );
      const sixteen = await measure(
        `${u.name} at 16 bits`,
        set((g) => (mine(g) ? 1 : 0)),
      );
      const spec = sim.plan.get(u.quantizers[0] as string);
      const opType =
        sim.floatModel.graph.node(u.name)?.opType ?? (spec?.layer ? sim.floatModel.graph.node(spec.layer)?.opType : undefined);
      perLayer.push({
        layer: u.name,
        opType,
        quantizers: u.quantizers,
        bitwidths: bitwidthsOf(sim.plan, u.quantizers),
        weightsOnly,
        activationsOnly,
        onlyThisQuantized: only,
        allButThisQuantized: allBut,
        sixteenBit: sixteen,
        loss: Number.isFinite(model.float) ? lossOf(scorer, model.float, only) : badness(scorer, only),
      });
    }
    const slots = new Map(sim.resolved.prepared.placement.slots.map((q) => [q.id, q.channelAxis]));
    // Per-channel check of the layers whose per-tensor weights look wrong: only their weights, per channel.
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
      .sort(
        (a, b) =>
          b.loss - a.loss || lossOf(scorer, model.quantized, b.sixteenBit) - lossOf(scorer, model.quantized, a.sixteenBit),
      );
    return new QuantAnalysisReport({
      metric: { name: scorer.name, unit: scorer.unit, better: scorer.better, samples: samples.length },
      model,
      layers,
      findings: [...findings].sort((a, b) => b.loss - a.loss),
      configurations: done,
      elapsedMs: Date.now() - started,
    });
  } finally {
    await switchable.release();
    await sim.release();
    await sim16.release();
    await simPc.release();
  }
}

async function scoreFloat(scorer: Scorer, runFloat: (f: FeedsLike) => Promise<TensorMap>): Promise<number> {
  return scorer.score(runFloat);
}

interface Unit {
  readonly name: string;
  readonly quantizers: string[];
  params: boolean;
  activations: boolean;
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
