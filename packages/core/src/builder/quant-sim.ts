import { create } from '@bufbuild/protobuf';
import { type GraphProto, ValueInfoProtoSchema } from 'onnx-buf';
import { checkFeeds, type FeedsLike } from '../calibrate/feeds.js';
import type { Backend, BackendSession, QdqElementType } from '../contracts/backend.js';
import type { EncodingMap } from '../contracts/encoding.js';
import type { TensorMap } from '../contracts/tensor.js';
import { NotCalibratedError } from '../errors/not-calibrated-error.js';
import { UnsupportedError } from '../errors/quantsim-error.js';
import { StaleEncodingsError } from '../errors/stale-encodings-error.js';
import { int32BiasLinks } from '../export/aimet/int32-bias.js';
import { type ExportedFiles, type ExportOptions, exportSimulation } from '../export/export-simulation.js';
import { buildQdqModel, QDQ_EXPORT_OPSET } from '../export/qdq/build.js';
import type { Model } from '../model/model.js';
import { overwriteWeights } from '../onnx/graph-edit.js';
import { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { BiasCorrectionRecord } from '../ptq/bias-correction.js';
import type { PostTrainingReport } from '../ptq/post-training.js';
import { chooseForm, type QuantizerForm } from '../simulate/qdq-form.js';
import { buildSimulatedModel, type SimulatedModel } from '../simulate/simulated-model.js';
import { findStaleEncodings } from '../simulate/stale-encodings.js';
import type { CarriedEncodings } from './options.js';
import type { QuantBuilder } from './quant-builder.js';

export { NotCalibratedError } from '../errors/not-calibrated-error.js';

/** Signal-to-quantization-noise ratio of one tensor, float versus quantized. */
export interface TensorComparison {
  readonly tensor: string;
  /** The layer that produces it. */
  readonly layer: string | undefined;
  /** 10·log10(Σx² / Σ(x − x̂)²) in dB; Infinity when identical. */
  readonly sqnr: number;
  readonly isGraphOutput: boolean;
}

/**
 * A calibrated quantization simulation: the plan, its encodings and the simulated model.
 * `run` executes the simulated model on the builder's backend, `runFloat` the float model,
 * `compare` reports per-layer SQNR, `edit` returns a builder carrying these encodings.
 */
/** What a simulation is made of: plain data from the pipeline. */
export interface SimulationInput {
  readonly plan: QuantPlan;
  readonly prepared: PreparedModel;
  /** Encodings by quantizer id (float quantizers without one get theirs from the plan). */
  readonly encodings: EncodingMap;
  readonly backend: Backend;
  readonly mode: 'simulate' | 'emulate';
  /** Quantizer ids whose encodings are frozen. */
  readonly frozen: ReadonlySet<string>;
  /**
   * Activation quantizers of If branches that no calibration sample ran: they have no encoding
   * on purpose and stay float (calibration warned, naming the branch).
   */
  readonly unrun?: ReadonlySet<string>;
  /** Post-training: what `.equalize()`, `.seqMse()` and `.biasCorrection()` did. */
  readonly postTraining?: PostTrainingReport;
  /**
   * The float reference of `runFloat` and `compare` when it differs from `prepared.model`:
   * the prepared model before bias correction rewrote its biases (the corrected model computes
   * another function; it is what the encodings refer to and what is exported).
   */
  readonly reference?: Model;
}

/** What a simulation asks of the builder that made it. */
export interface SimulationCallbacks {
  /** A builder carrying these encodings, for `sim.edit()`. */
  readonly edit: (carried: CarriedEncodings) => QuantBuilder;
  /** Runs the `export` rules over the encodings about to be exported; throws on errors. */
  readonly checkExport: (encodings: EncodingMap) => void;
}

export class QuantSim {
  readonly plan: QuantPlan;
  readonly encodings: EncodingMap;
  readonly mode: 'simulate' | 'emulate';
  readonly backend: Backend;
  readonly #prepared: PreparedModel;
  readonly #callbacks: SimulationCallbacks;
  readonly #frozen: ReadonlySet<string>;
  readonly #unrun: ReadonlySet<string>;
  readonly #postTraining: PostTrainingReport | undefined; // post-training report
  readonly #reference: Model | undefined;
  #simulated: SimulatedModel | undefined;
  #session: Promise<BackendSession> | undefined;
  #floatSession: Promise<BackendSession> | undefined;

  /** @internal Made by `calibrate()`, `fromStats()` and `simulate()`. */
  constructor(input: SimulationInput, callbacks: SimulationCallbacks) {
    this.plan = input.plan;
    this.#prepared = input.prepared;
    // Float (fp16/fp32) quantizers need no statistics: their encoding is their type.
    const all = new Map(input.encodings);
    for (const q of input.plan.quantizers)
      if (q.enabled && q.dtype === 'float' && !all.has(q.id))
        all.set(q.id, { dtype: 'float', bitwidth: q.bitwidth, symmetric: q.symmetric, channels: [] });
    this.encodings = all;
    this.mode = input.mode;
    this.backend = input.backend;
    this.#callbacks = callbacks;
    this.#frozen = input.frozen;
    this.#unrun = input.unrun ?? new Set();
    this.#postTraining = input.postTraining; // post-training report
    this.#reference = input.reference;
  }

  /** The float model that was simulated (BatchNorms folded when folding is on). */
  get floatModel(): Model {
    return this.#prepared.model;
  }

  /** What the post-training steps did (`.equalize()`, `.seqMse()`, `.biasCorrection()`); empty when none ran. */
  get postTraining(): PostTrainingReport {
    const equalization = this.#prepared.equalization;
    return this.#postTraining ?? (equalization ? { equalization } : {});
  }

  /** @internal The prepared model (folded float model, graph view, placement) this simulation was built from. */
  get prepared(): PreparedModel {
    return this.#prepared;
  }

  /** Quantizer ids whose encodings are frozen (loaded with `freeze`). */
  get frozen(): ReadonlySet<string> {
    return this.#frozen;
  }

  /** Enabled quantizers that have no encoding. */
  get missingEncodings(): string[] {
    // Activations of an If branch that no calibration sample took have none on purpose
    // (calibrate() warned, naming the branch): they stay float.
    return this.plan.quantizers.filter((q) => q.enabled && !this.encodings.has(q.id) && !this.#unrun.has(q.id)).map((q) => q.id);
  }

  /** The simulated model (built on first use). */
  get simulatedModel(): SimulatedModel {
    if (this.#simulated) return this.#simulated;
    const prepared = this.#prepared;
    if (this.mode === 'emulate') {
      // Emulation runs the deployable QDQ model itself (opset 21, integer weights, int32
      // biases), so that what ONNX Runtime fuses here is what a device would run.
      const model = buildQdqModel(prepared, this.plan, this.encodings, { unsupportedBitwidth: 'clip' });
      const forms = new Map<string, QuantizerForm>();
      for (const [id, enc] of this.encodings) forms.set(id, chooseForm(enc, QDQ_EXPORT_OPSET, ALL_QDQ_TYPES));
      this.#simulated = { model, forms };
    } else
      this.#simulated = buildSimulatedModel(prepared, this.plan, this.encodings, {
        qdqTypes: this.backend.capabilities.qdqTypes,
      });
    return this.#simulated;
  }

  /** Runs the simulated (quantized) model. @throws NotCalibratedError before calibration. */
  async run(feeds: FeedsLike, fetches?: readonly string[]): Promise<TensorMap> {
    const missing = this.missingEncodings;
    if (missing.length > 0) throw new NotCalibratedError(missing);
    this.#session ??= this.backend.createSession(this.simulatedModel.model.toBytes({ inlineExternal: true }), {
      mode: this.mode,
    });
    return (await this.#session).run(checkFeeds(feeds, this.#prepared.graph, 'sim.run'), fetches);
  }

  /**
   * The float model that `runFloat` and `compare` measure against: {@link floatModel}, except
   * after bias correction, where it is that model with its biases as they were (the model the
   * user's float accuracy belongs to).
   */
  get referenceModel(): Model {
    return this.#reference ?? this.#prepared.model;
  }

  /** Runs the float reference ({@link referenceModel}), on the same backend. */
  async runFloat(feeds: FeedsLike, fetches?: readonly string[]): Promise<TensorMap> {
    this.#floatSession ??= this.backend.createSession(this.referenceModel.toBytes({ inlineExternal: true }), { mode: 'float' });
    return (await this.#floatSession).run(checkFeeds(feeds, this.#prepared.graph, 'sim.runFloat'), fetches);
  }

  /**
   * Per-layer SQNR, float versus quantized, over one or more samples, worst first. Every
   * quantized activation of the main graph is compared (not those inside If branches), plus the
   * model's outputs. Quantization noise accumulates,
   * so each figure measures the effect of all quantizers up to that tensor.
   */
  async compare(samples: FeedsLike | readonly FeedsLike[]): Promise<TensorComparison[]> {
    const missing = this.missingEncodings;
    if (missing.length > 0) throw new NotCalibratedError(missing);
    const list = Array.isArray(samples) ? (samples as readonly FeedsLike[]) : [samples as FeedsLike];
    const graph = this.#prepared.graph;
    const tensors = [
      ...new Set([
        ...this.plan.quantizers
          // Tensors inside If branches cannot be graph outputs: compare covers the main graph.
          .filter((q) => q.enabled && q.kind === 'activation' && q.scope === undefined && !graph.inputs.includes(q.tensor))
          .map((q) => q.tensor),
        ...graph.outputs,
      ]),
    ];
    const floatModel = withOutputs(this.referenceModel, tensors);
    const simModel = withOutputs(this.simulatedModel.model, tensors);
    // Tensors exposed as graph outputs survive ONNX Runtime's 'basic' rewrites, not its fusions
    // at 'extended' and above (a fused node can drop an exposed tensor, and the session then
    // crashes while converting outputs), so the exposing sessions run at 'basic'. The model's own
    // outputs come from the session that `run` uses, so they are what deploys.
    const exposing = { graphOptimizationLevel: 'basic' } as const;
    const floatSession = await this.backend.createSession(floatModel.toBytes({ inlineExternal: true }), {
      mode: 'float',
      ...exposing,
    });
    const simSession = await this.backend.createSession(simModel.toBytes({ inlineExternal: true }), {
      mode: this.mode,
      ...exposing,
    });
    const signal = new Map<string, number>();
    const noise = new Map<string, number>();
    try {
      for (const [i, feeds] of list.entries()) {
        const checked = checkFeeds(feeds, graph, `compare sample ${i}`);
        const a = await floatSession.run(checked, tensors);
        const b = { ...(await simSession.run(checked, tensors)), ...(await this.run(feeds)) };
        for (const t of tensors) {
          const x = a[t]?.data;
          const y = b[t]?.data;
          if (!(x instanceof Float32Array) || !(y instanceof Float32Array)) continue;
          let s = 0;
          let n = 0;
          for (let k = 0; k < x.length; k++) {
            const v = x[k] as number;
            const d = v - (y[k] as number);
            s += v * v;
            n += d * d;
          }
          signal.set(t, (signal.get(t) ?? 0) + s);
          noise.set(t, (noise.get(t) ?? 0) + n);
        }
      }
    } finally {
      await floatSession.release();
      await simSession.release();
    }
    return tensors
      .filter((t) => signal.has(t))
      .map((t) => {
        const n = noise.get(t) ?? 0;
        const s = signal.get(t) ?? 0;
        return {
          tensor: t,
          layer: graph.tensor(t)?.producer?.name,
          sqnr: n === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(s / n),
          isGraphOutput: graph.outputs.includes(t),
        };
      })
      .sort((p, q) => p.sqnr - q.sqnr);
  }

  /**
   * This simulation (its plan and encodings) on other biases: `biases` (tensor → values) written
   * into a copy of its model, as a bias correction made elsewhere computed them (`records`), for
   * example automatic mixed precision's plan, each layer on the biases its candidate's bias
   * correction gave. Runs, exports and `edit()` use those biases; `runFloat` and `compare` the
   * model before them.
   * @throws UnsupportedError when this simulation has bias correction of its own, a tensor is not
   *   a constant of the model's size, or the plan quantizes one of them (its encoding would not match).
   */
  withBiases(biases: ReadonlyMap<string, Float32Array>, records: readonly BiasCorrectionRecord[]): QuantSim {
    if (this.#reference !== undefined)
      throw new UnsupportedError('withBiases(): this simulation has bias correction of its own.', {
        hint: 'Make it with .biasCorrection(false).',
      });
    const quantized = this.plan.enabled.find((q) => q.kind === 'param' && biases.has(q.tensor));
    if (quantized)
      throw new UnsupportedError(
        `withBiases(): this plan quantizes the bias ${quantized.tensor}; its encoding would not match the new values.`,
        { hint: 'Leave biases unquantized (the default), or calibrate this plan with bias correction itself.' },
      );
    const model = this.#prepared.model.clone();
    for (const [name, values] of biases) {
      const tensor = model.constantTensor(name);
      if (!tensor || tensor.dims.reduce((a, b) => a * Number(b), 1) !== values.length)
        throw new UnsupportedError(`withBiases(): ${name} is not a constant of ${values.length} values in the model.`, {
          hint: 'Pass biases of this model, as bias correction records them.',
        });
      overwriteWeights(tensor, values);
    }
    // The biases' quantizers (disabled by default) carry the post-training mark, as after `.biasCorrection()`.
    const plan = new QuantPlan(
      this.plan.quantizers.map((q) =>
        biases.has(q.tensor) && !q.steps?.includes('bias correction')
          ? { ...q, steps: [...(q.steps ?? []), 'bias correction'] }
          : q,
      ),
      this.plan.skipped,
    );
    return new QuantSim(
      {
        plan,
        prepared: { ...this.#prepared, model, graph: model.graph },
        encodings: this.encodings,
        backend: this.backend,
        mode: this.mode,
        frozen: this.#frozen,
        unrun: this.#unrun,
        postTraining: { ...this.postTraining, biasCorrection: records },
        reference: this.#prepared.model,
      },
      this.#callbacks,
    );
  }

  /**
   * A builder that carries this simulation's plan and encodings. Changing a quantizer that has
   * an encoding is an error (rule `overrides-before-encodings`) unless you call `.recalibrate()`.
   */
  edit(): QuantBuilder {
    const biases = new Map<string, Float32Array>();
    for (const r of this.#postTraining?.biasCorrection ?? []) {
      const values = this.#prepared.model.constantValues(r.bias);
      if (values) biases.set(r.bias, values);
    }
    return this.#callbacks.edit({
      plan: this.plan,
      encodings: this.encodings,
      frozen: this.#frozen,
      ...(this.#unrun.size > 0 ? { unrun: this.#unrun } : {}),
      ...(biases.size > 0 ? { biases, biasCorrection: this.#postTraining?.biasCorrection ?? [] } : {}),
    });
  }

  /**
   * Writes `<prefix>.encodings` (AIMET), `<prefix>.onnx` (the float model the encodings refer
   * to), `<prefix>.qdq.onnx` (deployable QDQ), `<prefix>.ort-overrides.json` and
   * `<prefix>.plan.json`, atomically. Runs the `export` rules first.
   * @returns the paths written, by format.
   * @throws NotCalibratedError when an enabled quantizer has no encoding.
   */
  async export(prefix: string, options: ExportOptions = {}): Promise<ExportedFiles> {
    const missing = this.missingEncodings;
    if (missing.length > 0) throw new NotCalibratedError(missing);
    const stale = findStaleEncodings(this.plan, this.encodings);
    if (stale.length > 0) throw new StaleEncodingsError('export()', stale);
    this.#callbacks.checkExport(this.encodings);
    const origin = this.#prepared.original.origin;
    const source = origin.source;
    // Activations of branches no calibration sample ran stay float: exported as disabled.
    const plan =
      this.#unrun.size === 0
        ? this.plan
        : new QuantPlan(
            this.plan.quantizers.map((q) =>
              this.#unrun.has(q.id)
                ? { ...q, enabled: false, provenance: { ...q.provenance, enabled: 'calibrate(): no sample ran its If branch' } }
                : q,
            ),
            this.plan.skipped,
          );
    return exportSimulation(
      {
        plan,
        encodings: this.encodings,
        floatModel: this.floatModel,
        sourcePath: source.startsWith('<') ? undefined : source,
        ...(origin.files ? { sourceFiles: origin.files } : {}),
        biasLinks: int32BiasLinks(this.#prepared.graph, plan),
        qdqModel: (o) => buildQdqModel(this.#prepared, plan, this.encodings, o).toBytes({ inlineExternal: true }),
      },
      prefix,
      options,
    );
  }

  /** Releases the sessions this simulation opened. Safe to call more than once. */
  async release(): Promise<void> {
    const sessions = [this.#session, this.#floatSession];
    this.#session = undefined;
    this.#floatSession = undefined;
    for (const s of sessions) if (s) await (await s).release();
  }
}

const ALL_QDQ_TYPES: ReadonlySet<QdqElementType> = new Set(['int4', 'uint4', 'int8', 'uint8', 'int16', 'uint16']);

/** A copy of a model with extra graph outputs (for comparisons). */
function withOutputs(model: Model, tensors: readonly string[]): Model {
  const copy = model.clone();
  const graph = copy.proto.graph as GraphProto;
  const present = new Set(graph.output.map((o) => o.name));
  for (const t of tensors) if (!present.has(t)) graph.output.push(create(ValueInfoProtoSchema, { name: t }));
  return copy;
}
