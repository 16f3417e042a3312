import type { FeedsLike, QuantSim } from '@quantsim/core';
import { InvalidArgumentError, QuantsimError } from '@quantsim/core';
import type { SensitivityMetric } from '../metric/sensitivity-metric.js';
import { type QuantUnit, quantUnits } from './quant-units.js';
import { withQuantizersDisabled } from './sim-variant.js';

/** The analyses `analyzeSensitivity` can run. */
export type SensitivityAnalysis = 'per-layer-sqnr' | 'only-quantized' | 'only-float' | 'weights-vs-activations';

/** Every analysis, in report order. */
export const SENSITIVITY_ANALYSES: readonly SensitivityAnalysis[] = [
  'per-layer-sqnr',
  'weights-vs-activations',
  'only-quantized',
  'only-float',
];

/** Progress of an analysis, for progress bars. */
export interface SensitivityProgress {
  /** Which step runs now, e.g. `only one layer quantized`. */
  readonly step: string;
  readonly done: number;
  readonly total: number;
}

/** Options of {@link analyzeSensitivity}. */
export interface SensitivityOptions {
  /** What each configuration is scored by. */
  readonly metric: SensitivityMetric;
  /** Samples for the per-layer SQNR of `sim.compare` (a few suffice). */
  readonly compareSamples: readonly FeedsLike[];
  /** Only units with a layer (or a quantized tensor) matching this are analyzed one by one. */
  readonly layers?: RegExp;
  /** Which analyses to run (default: all). */
  readonly analyses?: readonly SensitivityAnalysis[];
  readonly onProgress?: (progress: SensitivityProgress) => void;
  /** Stops between configurations; the analysis throws an `ABORTED` error. */
  readonly signal?: AbortSignal;
}

/** A per-tensor SQNR from `sim.compare`: all quantizers on, noise accumulated up to that tensor. */
export interface TensorSqnr {
  readonly tensor: string;
  readonly layer: string | undefined;
  /** dB; Infinity when identical. */
  readonly sqnr: number;
}

/** The metric with one unit alone quantized and with it alone left in float. */
export interface UnitSensitivity {
  readonly unit: string;
  readonly layers: readonly string[];
  readonly opType: string | undefined;
  readonly quantizers: readonly string[];
  /** Metric with only this unit quantized (every other quantizer off). */
  readonly onlyQuantized: number | undefined;
  /** Metric with every quantizer on except this unit's. */
  readonly onlyFloat: number | undefined;
}

/** Everything {@link analyzeSensitivity} measured. Values are in the metric's unit. */
export interface SensitivityResult {
  readonly metric: {
    readonly name: string;
    readonly unit: string;
    readonly better: 'higher' | 'lower';
    readonly samples: number;
  };
  /** The float model and the full plan. */
  readonly float: number;
  readonly quantized: number;
  /** Only parameter quantizers on; only activation (and input) quantizers on. */
  readonly weightsOnly: number | undefined;
  readonly activationsOnly: number | undefined;
  /** Worst first; empty when not run. */
  readonly perLayerSqnr: readonly TensorSqnr[];
  /** In plan order; only the units analyzed. */
  readonly units: readonly UnitSensitivity[];
  /** Units of the plan in all, analyzed or not. */
  readonly unitCount: number;
  /** Simulations built and measured (each costs `metric.samples` runs). */
  readonly configurations: number;
  readonly elapsedMs: number;
}

/**
 * Per-layer sensitivity in the manner of AIMET's QuantAnalyzer, from one calibrated simulation:
 * per-layer SQNR (all quantizers on), the metric with each unit alone quantized and alone left
 * in float, and with only weights or only activations quantized. Encodings are reused, so the
 * cost is one simulation build and `metric.samples` runs per configuration: two per unit
 * analyzed, plus four. The simulation must be calibrated with `.biasCorrection(false)`: each
 * configuration turns quantizers off, and biases corrected for the whole plan would stay
 * corrected for quantizers that are no longer there (`analyze()` calibrates that way itself).
 *
 * @throws InvalidArgumentError for a simulation whose biases were corrected.
 */
export async function analyzeSensitivity(sim: QuantSim, options: SensitivityOptions): Promise<SensitivityResult> {
  const corrected = sim.postTraining.biasCorrection?.length ?? 0;
  if (corrected > 0)
    throw new InvalidArgumentError(
      `analyzeSensitivity: the simulation's biases were corrected (${corrected} layers, bias correction is on by default); its configurations turn quantizers off, and those biases would stay corrected for them.`,
      {
        hint: 'Calibrate the simulation with .biasCorrection(false) for the analysis (analyze() does so itself), and with bias correction for deployment.',
      },
    );
  const started = Date.now();
  const { metric } = options;
  const analyses = new Set(options.analyses ?? SENSITIVITY_ANALYSES);
  const allUnits = quantUnits(sim.plan);
  const pattern = options.layers;
  const units = pattern
    ? allUnits.filter((u) => u.layers.some((l) => pattern.test(l)) || u.tensors.some((t) => pattern.test(t)))
    : allUnits;
  const enabled = sim.plan.enabled;
  const allTensors = new Set(enabled.map((q) => q.tensor));
  const perUnit = (analyses.has('only-quantized') ? 1 : 0) + (analyses.has('only-float') ? 1 : 0);
  const total =
    2 + (analyses.has('per-layer-sqnr') ? 1 : 0) + (analyses.has('weights-vs-activations') ? 2 : 0) + perUnit * units.length;
  let done = 0;
  let configurations = 0;
  const step = (name: string) => {
    if (options.signal?.aborted)
      throw new QuantsimError('ABORTED', `Sensitivity analysis was aborted after ${done} of ${total} steps.`, {
        hint: 'Run it again, with --layers or fewer samples to make it shorter.',
      });
    options.onProgress?.({ step: name, done, total });
  };
  const advance = (name: string) => {
    done++;
    options.onProgress?.({ step: name, done, total });
  };
  const measureWithout = async (off: ReadonlySet<string>): Promise<number> => {
    const variant = await withQuantizersDisabled(sim, off);
    try {
      configurations++;
      return await metric.measure((feeds) => variant.run(feeds));
    } finally {
      await variant.release();
    }
  };
  const complement = (keep: Iterable<string>) => {
    const kept = new Set(keep);
    return new Set([...allTensors].filter((t) => !kept.has(t)));
  };

  step('float model');
  const float = await metric.measure((feeds) => sim.runFloat(feeds));
  advance('float model');
  step('all quantized');
  configurations++;
  const quantized = await metric.measure((feeds) => sim.run(feeds));
  advance('all quantized');

  let perLayerSqnr: TensorSqnr[] = [];
  if (analyses.has('per-layer-sqnr')) {
    step('per-layer SQNR');
    perLayerSqnr = (await sim.compare([...options.compareSamples])).map((c) => ({
      tensor: c.tensor,
      layer: c.layer,
      sqnr: c.sqnr,
    }));
    advance('per-layer SQNR');
  }

  let weightsOnly: number | undefined;
  let activationsOnly: number | undefined;
  if (analyses.has('weights-vs-activations')) {
    step('weights only');
    weightsOnly = await measureWithout(complement(enabled.filter((q) => q.kind === 'param').map((q) => q.tensor)));
    advance('weights only');
    step('activations only');
    activationsOnly = await measureWithout(complement(enabled.filter((q) => q.kind !== 'param').map((q) => q.tensor)));
    advance('activations only');
  }

  const graph = sim.floatModel.graph;
  const results: UnitSensitivity[] = [];
  for (const unit of units) {
    let onlyQuantized: number | undefined;
    let onlyFloat: number | undefined;
    if (analyses.has('only-quantized')) {
      step(`only ${unit.name} quantized`);
      onlyQuantized = await measureWithout(complement(unit.tensors));
      advance(`only ${unit.name} quantized`);
    }
    if (analyses.has('only-float')) {
      step(`only ${unit.name} in float`);
      onlyFloat = await measureWithout(new Set(unit.tensors));
      advance(`only ${unit.name} in float`);
    }
    results.push(describeUnit(unit, graph.node(unit.name)?.opType, onlyQuantized, onlyFloat));
  }
  return {
    metric: { name: metric.name, unit: metric.unit, better: metric.better, samples: metric.samples },
    float,
    quantized,
    weightsOnly,
    activationsOnly,
    perLayerSqnr,
    units: results,
    unitCount: allUnits.length,
    configurations,
    elapsedMs: Date.now() - started,
  };
}

function describeUnit(
  unit: QuantUnit,
  opType: string | undefined,
  onlyQuantized: number | undefined,
  onlyFloat: number | undefined,
): UnitSensitivity {
  return { unit: unit.name, layers: unit.layers, opType, quantizers: unit.quantizers, onlyQuantized, onlyFloat };
}

/**
 * The `count` most sensitive units: those whose quantization alone costs the most, by the
 * metric with only that unit quantized (or, when that was not measured, by how much leaving it
 * in float recovers). Units whose alone-quantized metric matches float are never chosen.
 */
export function mostSensitiveUnits(result: SensitivityResult, count: number): UnitSensitivity[] {
  const sign = result.metric.better === 'higher' ? 1 : -1;
  const score = (u: UnitSensitivity): number | undefined => {
    if (u.onlyQuantized !== undefined) return sign * u.onlyQuantized;
    if (u.onlyFloat !== undefined) return -sign * u.onlyFloat;
    return undefined;
  };
  return result.units
    .filter((u) => {
      const s = score(u);
      return s !== undefined && Number.isFinite(s) && (u.onlyQuantized === undefined || u.onlyQuantized !== result.float);
    })
    .sort((a, b) => (score(a) ?? 0) - (score(b) ?? 0))
    .slice(0, count);
}
