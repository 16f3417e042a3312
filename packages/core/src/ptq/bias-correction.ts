import type { Backend } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import type { QuantizerSpec } from '../contracts/spec.js';
import type { Feeds } from '../contracts/tensor.js';
import { fakeQuantizeWeights } from '../encode/quantize-to-grid.js';
import { overwriteWeights } from '../onnx/graph-edit.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import { buildSimulatedModel } from '../simulate/simulated-model.js';
import { addChannelSums, nodeAt, runTruncated } from './partial-model.js';

/** Options of `.biasCorrection()` and {@link correctBiases}. */
export interface BiasCorrectionOptions {
  /** Calibration samples measured (the first ones; default 16, AIMET's default). */
  readonly samples?: number;
}

/** One layer whose bias was corrected. */
export interface BiasCorrectionRecord {
  /** Stable name of the layer. */
  readonly layer: string;
  /** The bias tensor rewritten. */
  readonly bias: string;
  /** `E[W̃x̃] − E[Wx]` per output channel: what was subtracted from the bias. */
  readonly shift: Float32Array;
}

/** What {@link correctBiases} needs: the calibrated simulation's parts. */
export interface PostTrainingInput {
  /** The model as prepared for the plan (folded, equalized). */
  readonly prepared: PreparedModel;
  /** The resolved plan. */
  readonly plan: QuantPlan;
  /** The encodings computed by calibration. */
  readonly encodings: EncodingMap;
  /** The backend the measurements run on. */
  readonly backend: Backend;
  /** Calibration samples, already checked against the model's inputs. */
  readonly samples: readonly Feeds[];
  /** Recomputes a parameter quantizer's encoding from the (changed) values in `prepared`. */
  readonly paramEncoding: (prepared: PreparedModel, spec: QuantizerSpec) => Encoding;
}

/** The layers bias correction applies to: those with a quantized weight and a float constant bias. */
export const BIAS_CORRECTED_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Gemm']);

/**
 * Empirical bias correction (Nagel et al. 2019, §4.2; AIMET's empirical variant): for each
 * layer in topological order, the mean of its output over calibration samples is measured in
 * the float model and in the quantized simulation (with the biases of earlier layers already
 * corrected), and the difference `E[W̃x̃] − E[Wx]` per output channel (axis 1) is subtracted
 * from its bias. The output is read before the layer's own activation quantizer.
 *
 * A quantized bias gets a new encoding from its corrected values. Activation encodings are
 * kept. Costs one truncated run of the simulation per corrected layer.
 *
 * @returns the prepared model with corrected biases (a copy), the encodings (bias encodings
 *   recomputed) and one record per corrected layer.
 */
export async function correctBiases(
  input: PostTrainingInput,
  options: BiasCorrectionOptions = {},
): Promise<{ prepared: PreparedModel; encodings: Map<string, Encoding>; records: BiasCorrectionRecord[] }> {
  const work = input.prepared.model.clone();
  const prepared: PreparedModel = { ...input.prepared, model: work, graph: work.graph };
  const encodings = new Map(input.encodings);
  const samples = input.samples.slice(0, options.samples ?? 16);
  const targets = prepared.graph.layers.filter((layer) => {
    if (!BIAS_CORRECTED_OPS.has(layer.opType) || layer.node.domain !== '') return false;
    const w = layer.params.find((p) => p.role === 'weight');
    const b = layer.params.find((p) => p.role === 'bias');
    if (!w || !b || (prepared.graph.tensor(b.tensor)?.consumers.length ?? 0) !== 1) return false;
    const wq = input.plan.forLayer(layer.name).find((q) => q.kind === 'param' && q.tensor === w.tensor);
    return wq?.enabled === true && work.constantValues(b.tensor) !== undefined;
  });
  if (targets.length === 0 || samples.length === 0) return { prepared, encodings, records: [] };

  // Float means of every target's output, in one pass.
  const outputs = targets.map((l) => l.outputs[0] as string);
  const floatSums = new Map(targets.map((l) => [l.name, new Float64Array(work.constantValues(biasOf(l))?.length ?? 0)]));
  const floatCounts = new Map<string, number>();
  await runTruncated(input.backend, work, outputs, samples, 'float', (values) => {
    for (const [i, l] of targets.entries()) {
      const t = values[outputs[i] as string];
      const sum = floatSums.get(l.name) as Float64Array;
      if (t) floatCounts.set(l.name, (floatCounts.get(l.name) ?? 0) + addChannelSums(t, sum));
    }
  });

  const sim = buildSimulatedModel(prepared, input.plan, encodings, { qdqTypes: input.backend.capabilities.qdqTypes }).model;
  const records: BiasCorrectionRecord[] = [];
  for (const layer of targets) {
    const biasName = biasOf(layer);
    const simNode = nodeAt(sim, work, layer.node.proto);
    const fetch = simNode?.output[0];
    const floatSum = floatSums.get(layer.name) as Float64Array;
    const floatCount = floatCounts.get(layer.name) ?? 0;
    if (!fetch || floatCount === 0) continue;
    const qSum = new Float64Array(floatSum.length);
    let qCount = 0;
    await runTruncated(input.backend, sim, [fetch], samples, 'simulate', (values) => {
      const t = values[fetch];
      if (t) qCount += addChannelSums(t, qSum);
    });
    if (qCount === 0) continue;
    const bias = work.constantValues(biasName) as Float32Array;
    const shift = new Float32Array(bias.length);
    for (let c = 0; c < bias.length; c++) {
      shift[c] = (qSum[c] as number) / qCount - (floatSum[c] as number) / floatCount;
      bias[c] = (bias[c] as number) - (shift[c] as number);
    }
    overwriteWeights(work.constantTensor(biasName) as never, bias);
    // The simulation reads the corrected bias from here on (fake-quantized if its quantizer is on).
    const bq = input.plan.forLayer(layer.name).find((q) => q.kind === 'param' && q.tensor === biasName);
    let simulated = bias;
    if (bq?.enabled && bq.dtype === 'int') {
      const enc = input.paramEncoding(prepared, bq);
      encodings.set(bq.id, enc);
      simulated = fakeQuantizeWeights(bias, [bias.length], enc);
    }
    const simTensor = sim.constantTensor(biasName);
    if (simTensor) overwriteWeights(simTensor, simulated);
    records.push({ layer: layer.name, bias: biasName, shift });
  }
  return { prepared, encodings, records };
}

function biasOf(layer: { readonly params: readonly { readonly role: string; readonly tensor: string }[] }): string {
  return layer.params.find((p) => p.role === 'bias')?.tensor as string;
}
