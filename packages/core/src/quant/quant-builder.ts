import type { CalibrateOptions, CalibrationStats } from '../calibrate/collect.js';
import type { CalibrationData } from '../calibrate/feeds.js';
import type { Backend } from '../contracts/backend.js';
import type { Plugin } from '../contracts/plugin.js';
import type { QuantSim } from '../sim/quant-sim.js';
import type { LoadEncodingsOptions, QuantizerOptions } from './builder.js';
import type { BuilderState } from './builder-state.js';
import type { QuantDefaults } from './defaults.js';
import type { QuantPlan } from './plan.js';
import type { LayerPredicate } from './selector.js';

/**
 * The fluent, immutable quantization builder returned by `quant(model)`.
 *
 * Selectors (`layers`, `ops`, `tensors`, `all`) start a scope; modifiers after them
 * (`activations`, `params`, `inputs`, `perChannel`, `symmetric`, `disable`, `scheme`…) apply to
 * the quantizers of that scope. Without a selector, modifiers apply to every quantizer. Every
 * call returns a new builder and leaves the old one unchanged, so builders fork freely.
 *
 * Precedence, lowest first: defaults, the config file, then modifiers in the order written.
 *
 * ### Examples
 * ```ts
 * const base = quant('detector.onnx').defaults({ activations: 8, params: 8, scheme: 'tf-enhanced' });
 * const mixed = base.layers(/fc|bbox/).activations(16).params(16);
 * const sim = await mixed.calibrate(calibrationData);
 * ```
 */
export interface QuantBuilder {
  /** The frozen plain-data state of this builder. */
  readonly state: BuilderState;

  /**
   * Sets model-wide defaults (AIMET's: 8/8, params symmetric, activations asymmetric, TF-enhanced, bias off).
   * @throws InvalidArgumentError for an unknown default name or a value of the wrong type.
   */
  defaults(update: Partial<QuantDefaults>): QuantBuilder;
  /**
   * Applies an AIMET quantsim config: the name of one that a plugin ships (the default plugin
   * has `aimet-default`, `aimet-per-channel`, `htp` and `ort`), the path of a JSON file, or an
   * object; its sections are `defaults`, `params`, `op_type`, `supergroups`, `model_input`,
   * `model_output`. It sits between the defaults and the modifiers. Names are looked up among the
   * plugins added so far.
   *
   * ### Examples
   * ```ts
   * const htp = quant('model.onnx').config('htp');
   * const mine = quant('model.onnx').config('configs/my_quantsim_config.json');
   * ```
   * @throws UnknownConfigError for a name no plugin provides, listing the known names.
   * @throws ConfigFileError naming the file and the field that is wrong.
   */
  config(nameFileOrObject: string | object): QuantBuilder;
  /** Selects layers by stable name: RegExp, exact string, or a predicate on the {@link Layer}. */
  layers(...patterns: (RegExp | string | LayerPredicate)[]): QuantBuilder;
  /** Selects layers by op type, e.g. `.ops('Softmax', 'MatMul')`. */
  ops(...opTypes: string[]): QuantBuilder;
  /** Selects quantizers by the tensor they quantize. */
  tensors(...patterns: (RegExp | string)[]): QuantBuilder;
  /** Selects every quantizer. */
  all(): QuantBuilder;
  /** Sets the output (activation) quantizers of the scope: a bitwidth or `{ bits, symmetric?, scheme?, dtype? }`. */
  activations(settings: number | QuantizerOptions): QuantBuilder;
  /** Sets the parameter (weight, bias…) quantizers of the scope. */
  params(settings: number | QuantizerOptions): QuantBuilder;
  /** Adds (and sets) quantizers on the activation inputs of the selected layers. */
  inputs(settings?: number | QuantizerOptions): QuantBuilder;
  /** Per-channel params, on `axis` or the output-channel axis (Conv 0, ConvTranspose 1, Gemm/MatMul by transposition). */
  perChannel(axis?: number): QuantBuilder;
  /** Per-tensor params. */
  perTensor(): QuantBuilder;
  /** Symmetric encodings for the scope; `{ strict: true }` drops one grid point ([-127, 127] at 8 bits). */
  symmetric(options?: { strict?: boolean }): QuantBuilder;
  /** Asymmetric encodings for the scope. */
  asymmetric(): QuantBuilder;
  /** Turns the scope's quantizers off (they stay in float). */
  disable(): QuantBuilder;
  /** Turns the scope's quantizers on (for example biases). */
  enable(): QuantBuilder;
  /** Picks the encoding scheme of the scope's quantizers, with options (`{ p: 99.9 }` for percentile). */
  scheme(name: string, options?: Readonly<Record<string, unknown>>): QuantBuilder;
  /** Folds BatchNormalization into the preceding Conv/Gemm before simulation (on by default, as in AIMET). */
  foldBatchNorms(on?: boolean): QuantBuilder;
  /**
   * Picks the backend by name (`cpu`, `cuda`, `webgpu`, or a registered one) or instance.
   * With `{ fallback: 'cpu' }` an unavailable backend falls back to CPU with one warning.
   */
  backend(backend: string | Backend, options?: { fallback?: 'cpu' }): QuantBuilder;
  /** `simulate` (default): Q/DQ as float arithmetic; `emulate`: integer kernels, as on a device. */
  mode(mode: 'simulate' | 'emulate'): QuantBuilder;
  /** Adds a plugin's schemes, rules and backends; a plugin of the same name is not added twice. */
  use(plugin: Plugin): QuantBuilder;
  /**
   * Loads AIMET encodings (0.6.1, 1.0.0 or 2.0.0) from a file or object. They are matched when
   * the plan resolves: in strict mode (default) every name the model lacks and every setting
   * that disagrees (bitwidth, symmetry, dtype, per-channel) is listed in one error. Frozen
   * encodings (default) survive calibration.
   * @throws EncodingsFormatError for a file that is not AIMET encodings.
   */
  loadEncodings(file: string | object, options?: LoadEncodingsOptions): QuantBuilder;
  /** After `sim.edit()`: allows changes to calibrated quantizers, recomputing exactly their encodings. */
  recalibrate(): QuantBuilder;
  /**
   * The resolved plan, one row per quantizer with provenance, without running the model.
   * @throws RuleViolationError listing every problem the rules found.
   */
  plan(): Promise<QuantPlan>;
  /**
   * Gathers activation statistics from (a shard of) the calibration data. Statistics merge
   * exactly with `mergeCalibrationStats`, so calibration can be split across workers.
   */
  collectStats(data: CalibrationData, options?: CalibrateOptions): Promise<CalibrationStats>;
  /** Builds a calibrated simulation from (merged) statistics. */
  fromStats(stats: CalibrationStats): Promise<QuantSim>;
  /**
   * A simulation with only the encodings this builder carries (loaded, or from `sim.edit()`),
   * without calibration. Its `run` refuses to start while any enabled quantizer lacks an encoding.
   */
  simulate(): Promise<QuantSim>;
  /**
   * Calibrates: gathers statistics over `data`, computes encodings with each quantizer's
   * scheme, and returns the simulation.
   * @throws RuleViolationError, BackendUnavailableError, CalibrationError.
   */
  calibrate(data: CalibrationData, options?: CalibrateOptions): Promise<QuantSim>;
}
