import type { CalibrateOptions, CalibrationStats } from '../calibrate/collect.js';
import type { CalibrationData, FeedsLike } from '../calibrate/feeds.js';
import type { StatisticsJob } from '../calibrate/statistics-job.js';
import type { ThreadCalibrateOptions } from '../calibrate/thread-pool.js';
import type { Backend } from '../contracts/backend.js';
import type { Plugin } from '../contracts/plugin.js';
import type { QuantDefaults } from '../plan/defaults.js';
import type { QuantPlan } from '../plan/plan.js';
import type { LayerPredicate } from '../plan/selector.js';
import type { BiasCorrectionOptions } from '../ptq/bias-correction.js';
import type { SeqMseOptions } from '../ptq/seq-mse.js';
import type { EqualizeOptions } from '../transform/equalize.js';
import type { BuilderState } from './builder-state.js';
import type { LoadEncodingsOptions, QuantizerOptions } from './options.js';
import type { QuantSim } from './quant-sim.js';

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
   * Sets model-wide defaults (AIMET's: 8/8, params symmetric, activations asymmetric, TF-enhanced, bias off;
   * but per-channel Conv, ConvTranspose, Gemm and MatMul weights: `perChannel: false` gives AIMET's per-tensor).
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').defaults({ activations: 8, params: 4, scheme: 'tf-enhanced' });
   * ```
   *
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
   * quant('model.onnx').config('htp');
   * quant('model.onnx').config('htp_quantsim_config.json');
   * ```
   *
   * @throws UnknownConfigError for a name no plugin provides, listing the known names.
   * @throws ConfigFileError naming the file and the field that is wrong.
   */
  config(nameFileOrObject: string | object): QuantBuilder;
  /**
   * Selects layers by stable name: RegExp, exact string, or a predicate on the {@link Layer}.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').layers(/fc|bbox/, 'conv1', (layer) => layer.opType === 'Gemm').params(16);
   * ```
   */
  layers(...patterns: (RegExp | string | LayerPredicate)[]): QuantBuilder;
  /**
   * Selects layers by op type, e.g. `.ops('Softmax', 'MatMul')`.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').ops('Softmax', 'LayerNormalization').activations(16);
   * ```
   */
  ops(...opTypes: string[]): QuantBuilder;
  /**
   * Selects quantizers by the tensor they quantize.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').tensors(/^logits$/).disable();
   * ```
   */
  tensors(...patterns: (RegExp | string)[]): QuantBuilder;
  /**
   * Selects every quantizer.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').layers(/head/).params(16).all().symmetric();
   * ```
   */
  all(): QuantBuilder;
  /**
   * Sets the output (activation) quantizers of the scope: a bitwidth or `{ bits, symmetric?, scheme?, dtype? }`.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').activations({ bits: 16, symmetric: false, scheme: 'percentile', schemeOptions: { p: 99.99 } });
   * ```
   */
  activations(settings: number | QuantizerOptions): QuantBuilder;
  /**
   * Sets the parameter (weight, bias…) quantizers of the scope.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').layers(/fc/).params(16);
   * ```
   */
  params(settings: number | QuantizerOptions): QuantBuilder;
  /**
   * Adds (and sets) quantizers on the activation inputs of the selected layers.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').ops('MatMul').inputs(8);
   * ```
   */
  inputs(settings?: number | QuantizerOptions): QuantBuilder;
  /**
   * Per-channel params, on `axis` or the output-channel axis (Conv 0, ConvTranspose 1, Gemm/MatMul by transposition).
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').ops('Conv').perChannel();
   * ```
   */
  perChannel(axis?: number): QuantBuilder;
  /**
   * Per-tensor params.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').perChannel().ops('Gemm').perTensor();
   * ```
   */
  perTensor(): QuantBuilder;
  /**
   * Symmetric encodings for the scope; `{ strict: true }` drops one grid point ([-127, 127] at 8 bits).
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').symmetric({ strict: true });
   * ```
   */
  symmetric(options?: { strict?: boolean }): QuantBuilder;
  /**
   * Asymmetric encodings for the scope.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').ops('Relu').asymmetric();
   * ```
   */
  asymmetric(): QuantBuilder;
  /**
   * Turns the scope's quantizers off (they stay in float).
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').layers('bbox_pred').disable();
   * ```
   */
  disable(): QuantBuilder;
  /**
   * Turns the scope's quantizers on (for example biases).
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').tensors(/bias$/).enable();
   * ```
   */
  enable(): QuantBuilder;
  /**
   * Picks the encoding scheme of the scope's quantizers, with options (`{ p: 99.9 }` for percentile).
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').scheme('percentile', { p: 99.9 });
   * ```
   */
  scheme(name: string, options?: Readonly<Record<string, unknown>>): QuantBuilder;
  /**
   * Folds BatchNormalization into the preceding Conv/Gemm before simulation (on by default, as in AIMET).
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').foldBatchNorms(false);
   * ```
   */
  foldBatchNorms(on?: boolean): QuantBuilder;
  // Post-training steps (AIMET's CLE, bias correction, Sequential MSE): see ptq/ and transform/equalize.ts.
  /**
   * Cross-layer equalization after BatchNorm folding: Conv → (Relu | LeakyRelu | PRelu | nothing)
   * → Conv pairs and Conv → depthwise → Conv triplets get equal per-channel weight ranges, with
   * high-bias absorption. The float function is unchanged; the equalized weights are what is
   * simulated and exported. Pairs that cannot be equalized are listed with the reason in
   * `sim.postTraining.equalization.skipped`.
   *
   * ### Examples
   * ```ts
   * const sim = await quant('model.onnx').equalize({ highBiasAbsorption: true }).calibrate(calibrationData);
   * console.log(sim.postTraining.equalization?.skipped);
   * ```
   *
   * @throws InvalidArgumentError for an unknown option or one of the wrong type.
   */
  equalize(options?: EqualizeOptions): QuantBuilder;
  /**
   * Empirical bias correction after calibration: each Conv/Gemm bias absorbs the mean output
   * error `E[W̃x̃] − E[Wx]` per channel, measured layer by layer on the first calibration
   * samples. The corrected biases are simulated and exported.
   *
   * **On by default** (16 samples): per-tensor 8-bit activations shift the mean of layer
   * outputs, and correcting it takes the PaddleOCR recognizer's W8A8 CER from 1.9–2.7 % to
   * 1.0–1.1 % on the hard dev set (float 0.94 %; docs/accuracy.md). Call it to change the number
   * of samples; `false` turns it off (AIMET calibrates without it unless asked). It costs about
   * one pass over the simulation per sample it uses. `fromStats(stats)` without samples skips it
   * with a warning.
   *
   * ### Examples
   * ```ts
   * const sim = await quant('model.onnx').biasCorrection({ samples: 32 }).calibrate(calibrationData);
   * console.log(sim.postTraining.biasCorrection?.length);
   * const plain = await quant('model.onnx').biasCorrection(false).calibrate(calibrationData);
   * ```
   *
   * @throws InvalidArgumentError for an unknown option or a count that is not a positive integer.
   */
  biasCorrection(options?: BiasCorrectionOptions | boolean): QuantBuilder;
  /**
   * Sequential MSE after calibration: each Conv/Gemm/MatMul weight encoding is chosen, layer by
   * layer, among clipping candidates to minimise the layer's output error on calibration inputs.
   *
   * ### Examples
   * ```ts
   * const sim = await quant('model.onnx').seqMse({ candidates: 20, samples: 16 }).calibrate(calibrationData);
   * console.log(sim.postTraining.seqMse?.skipped);
   * ```
   *
   * @throws InvalidArgumentError for an unknown option or a count that is not a positive integer.
   */
  seqMse(options?: SeqMseOptions): QuantBuilder;
  /**
   * Picks the backend by name (`cpu`, `cuda`, `webgpu`, or a registered one) or instance.
   * With `{ fallback: 'cpu' }` an unavailable backend falls back to CPU with one warning.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').backend('cuda', { fallback: 'cpu' });
   * ```
   */
  backend(backend: string | Backend, options?: { fallback?: 'cpu' }): QuantBuilder;
  /**
   * `simulate` (default): Q/DQ as float arithmetic; `emulate`: integer kernels, as on a device.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').mode('emulate');
   * ```
   */
  mode(mode: 'simulate' | 'emulate'): QuantBuilder;
  /**
   * Adds a plugin's schemes, rules and backends; a plugin of the same name replaces the earlier one, in its place.
   *
   * ### Examples
   * ```ts
   * quant('model.onnx').use({ name: 'my-rules', rules: [] });
   * ```
   */
  use(plugin: Plugin): QuantBuilder;
  /**
   * Loads AIMET encodings (0.6.1, 1.0.0 or 2.0.0) from a file or object. They are matched when
   * the plan resolves: in strict mode (default) every name the model lacks and every setting
   * that disagrees (bitwidth, symmetry, dtype, per-channel) is listed in one error. Frozen
   * encodings (default) survive calibration.
   *
   * ### Examples
   * ```ts
   * const sim = await quant('model.onnx').loadEncodings('model.encodings', { strict: false }).simulate();
   * ```
   *
   * @throws EncodingsFormatError for a file that is not AIMET encodings.
   */
  loadEncodings(file: string | object, options?: LoadEncodingsOptions): QuantBuilder;
  /**
   * After `sim.edit()`: allows changes to calibrated quantizers, recomputing exactly their encodings.
   *
   * ### Examples
   * ```ts
   * const sim = await quant('model.onnx').calibrate(calibrationData);
   * const again = await sim.edit().layers(/fc/).params(16).recalibrate().calibrate(calibrationData);
   * ```
   */
  recalibrate(): QuantBuilder;
  /**
   * The resolved plan, one row per quantizer with provenance, without running the model.
   *
   * ### Examples
   * ```ts
   * const plan = await quant('model.onnx').layers(/fc/).params(16).plan();
   * console.log(plan.toTable({ onlyOverridden: true }));
   * ```
   *
   * @throws RuleViolationError listing every problem the rules found.
   */
  plan(): Promise<QuantPlan>;
  /**
   * Gathers activation statistics from (a shard of) the calibration data. Statistics merge
   * exactly with `mergeCalibrationStats`, so calibration can be split across workers.
   *
   * ### Examples
   * ```ts
   * const builder = quant('model.onnx');
   * const [a, b] = await Promise.all([builder.collectStats(shard1), builder.collectStats(shard2)]);
   * const sim = await builder.fromStats(mergeCalibrationStats(a, b));
   * ```
   */
  collectStats(data: CalibrationData, options?: ThreadCalibrateOptions): Promise<CalibrationStats>;
  /**
   * This builder's statistics pass as plain data (prepared model bytes, the tensors to gather,
   * the backend's name and recipe), for running shards on other threads or machines with
   * `openStatisticsJob`; merge their statistics and pass them to {@link fromStats}.
   *
   * ### Examples
   * ```ts
   * const builder = quant('model.onnx');
   * const job = await builder.statisticsJob();
   * const runner = await openStatisticsJob(job, new CpuBackend());
   * const sim = await builder.fromStats(mergeCalibrationStats(await runner.run(shard1), await runner.run(shard2)));
   * ```
   */
  statisticsJob(options?: Pick<CalibrateOptions, 'histogramStride' | 'nonFinite'>): Promise<StatisticsJob>;
  /**
   * Builds a calibrated simulation from (merged) statistics. Bias correction (on by default) and
   * `.seqMse()` run on `postTrainingSamples` (calibration samples; `calibrate` passes its first
   * ones); without them bias correction is skipped with a warning.
   *
   * ### Examples
   * ```ts
   * const builder = quant('model.onnx');
   * const stats = await builder.collectStats(calibrationData, { samples: 64 });
   * const sim = await builder.fromStats(stats, firstSamples); // the first 16 samples, for bias correction
   * ```
   */
  fromStats(stats: CalibrationStats, postTrainingSamples?: readonly FeedsLike[]): Promise<QuantSim>;
  /**
   * A simulation with only the encodings this builder carries (loaded, or from `sim.edit()`),
   * without calibration. Its `run` refuses to start while any enabled quantizer lacks an encoding.
   *
   * ### Examples
   * ```ts
   * const sim = await quant('model.onnx').loadEncodings('model.encodings').simulate();
   * const outputs = await sim.run(feeds);
   * ```
   */
  simulate(): Promise<QuantSim>;
  /**
   * Calibrates: gathers statistics over `data`, computes encodings with each quantizer's
   * scheme, and returns the simulation. With `{ workers: n }` the samples are shared over n
   * worker threads, each with its own session; the encodings are bit for bit the same.
   *
   * ### Examples
   * ```ts
   * const sim = await quant('model.onnx').calibrate(calibrationData, { samples: 100 });
   * await sim.export('out/model');
   * ```
   *
   * @throws RuleViolationError, BackendUnavailableError, CalibrationError.
   */
  calibrate(data: CalibrationData, options?: ThreadCalibrateOptions): Promise<QuantSim>;
}
