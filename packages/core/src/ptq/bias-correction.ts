import type { Backend } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import type { QuantizerSpec } from '../contracts/spec.js';
import type { Feeds, TensorData } from '../contracts/tensor.js';
import { fakeQuantizeWeights } from '../encode/quantize-to-grid.js';
import { overwriteWeights } from '../onnx/graph-edit.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import { buildSimulatedModel } from '../simulate/simulated-model.js';
import { addChannelSums, channelLayout, nodeAt, runTruncated } from './partial-model.js';
import { cutModel, hasSubgraphs, segmentModel } from './segments.js';

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
 * The simulation is cut at every corrected layer's output into segments that run in turn, each
 * fed the tensors the earlier ones computed, so the measurements cost one pass over the model
 * per sample plus one small session per layer, not one run of the model's prefix per layer.
 * The result is the layer-by-layer one up to float32 rounding: Conv(x, b) + Δ and Conv(x, b + Δ)
 * differ in the last bits, and the activation quantizers downstream amplify such differences
 * (on the PaddleOCR recognizer the deepest layers' means end 0.002–0.03 from float where the
 * truncated runs end within 1e-7; before correction they are 0.3–2 off).
 * Models with subgraphs (If, Loop, Scan) are not cut: they run one truncated model per layer.
 *
 * A quantized bias gets a new encoding from its corrected values. Activation encodings are
 * kept.
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
  const rows: CorrectionRow[] = [];
  for (const layer of targets) {
    const fetch = nodeAt(sim, work, layer.node.proto)?.output[0];
    const floatSum = floatSums.get(layer.name) as Float64Array;
    const floatCount = floatCounts.get(layer.name) ?? 0;
    if (!fetch || floatCount === 0) continue;
    const bias = biasOf(layer);
    const bq = input.plan.forLayer(layer.name).find((q) => q.kind === 'param' && q.tensor === bias);
    rows.push({
      layer: layer.name,
      bias,
      fetch,
      floatMean: floatSum.map((v) => v / floatCount),
      quantizer: bq?.enabled && bq.dtype === 'int' ? bq : undefined,
    });
  }
  // The bias as the simulation reads it (fake-quantized if its quantizer is on), after correction.
  const correct = (row: CorrectionRow, mean: Float64Array): { shift: Float32Array; simulated: Float32Array } => {
    const bias = work.constantValues(row.bias) as Float32Array;
    const shift = new Float32Array(bias.length);
    for (let c = 0; c < bias.length; c++) {
      shift[c] = (mean[c] as number) - (row.floatMean[c] as number);
      bias[c] = (bias[c] as number) - (shift[c] as number);
    }
    overwriteWeights(work.constantTensor(row.bias) as never, bias);
    if (row.quantizer) encodings.set(row.quantizer.id, input.paramEncoding(prepared, row.quantizer));
    const after = simulatedBias(row, bias, encodings);
    const simTensor = sim.constantTensor(row.bias);
    if (simTensor) overwriteWeights(simTensor, after);
    return { shift, simulated: after };
  };
  const records: BiasCorrectionRecord[] = [];
  if (hasSubgraphs(sim.proto)) {
    // Subgraphs read outer tensors implicitly, so the model is not cut: one truncated run per layer.
    for (const row of rows) {
      const qSum = new Float64Array(row.floatMean.length);
      let qCount = 0;
      await runTruncated(input.backend, sim, [row.fetch], samples, 'simulate', (values) => {
        const t = values[row.fetch];
        if (t) qCount += addChannelSums(t, qSum);
      });
      if (qCount === 0) continue;
      records.push({
        layer: row.layer,
        bias: row.bias,
        shift: correct(
          row,
          qSum.map((v) => v / qCount),
        ).shift,
      });
    }
    return { prepared, encodings, records };
  }
  // Cut the simulation at every corrected layer's output and run the pieces in order, each on the
  // tensors the earlier ones computed: one pass over the model per sample in all. A layer's
  // output is measured with the biases before it already corrected; its own correction is then
  // added to its cached output (a bias adds per channel), which is what the later pieces read.
  const base = sim.inlined();
  const { segments, order } = cutModel(
    base,
    rows.map((r) => r.fetch),
  );
  const byFetch = new Map(rows.map((r) => [r.fetch, r]));
  const caches = samples.map(() => new Map<string, TensorData>());
  for (const [s, segment] of segments.entries()) {
    const row = byFetch.get(order[s] as string) as CorrectionRow;
    const types = new Map([...(caches[0]?.entries() ?? [])].map(([k, v]) => [k, v.type]));
    const session = await input.backend.createSession(segmentModel(base, segment, types), { mode: 'simulate' });
    const qSum = new Float64Array(row.floatMean.length);
    let qCount = 0;
    try {
      for (const [i, sample] of samples.entries()) {
        const cache = caches[i] as Map<string, TensorData>;
        const feeds: Record<string, TensorData> = {};
        for (const v of segment.modelInputs) if (sample[v.name]) feeds[v.name] = sample[v.name] as TensorData;
        for (const t of segment.cached) feeds[t] = cache.get(t) as TensorData;
        const values = await session.run(feeds, segment.outputs);
        for (const t of segment.lastUse) cache.delete(t);
        for (const t of segment.outputs) if (values[t]) cache.set(t, values[t] as TensorData);
        const out = values[row.fetch];
        if (out) qCount += addChannelSums(out, qSum);
      }
    } finally {
      await session.release();
    }
    if (qCount === 0) continue;
    const before = simulatedBias(row, work.constantValues(row.bias) as Float32Array, encodings);
    const { shift, simulated } = correct(
      row,
      qSum.map((v) => v / qCount),
    );
    const delta = simulated.map((v, c) => v - (before[c] as number));
    for (const cache of caches) {
      const out = cache.get(row.fetch);
      if (out) cache.set(row.fetch, addPerChannel(out, delta));
    }
    records.push({ layer: row.layer, bias: row.bias, shift });
  }
  const rank = new Map(rows.map((r, i) => [r.layer, i]));
  records.sort((a, b) => (rank.get(a.layer) as number) - (rank.get(b.layer) as number));
  return { prepared, encodings, records };
}

/** A corrected layer: where its output is read, its float means, its bias and the bias's quantizer. */
interface CorrectionRow {
  readonly layer: string;
  readonly bias: string;
  /** The simulation's tensor of the layer's output before its activation quantizer. */
  readonly fetch: string;
  readonly floatMean: Float64Array;
  readonly quantizer: QuantizerSpec | undefined;
}

/** The bias values the simulation computes with: fake-quantized (with its current encoding) when the bias is quantized. */
function simulatedBias(row: CorrectionRow, bias: Float32Array, encodings: ReadonlyMap<string, Encoding>): Float32Array {
  const enc = row.quantizer ? encodings.get(row.quantizer.id) : undefined;
  return enc ? fakeQuantizeWeights(bias, [bias.length], enc) : Float32Array.from(bias);
}

/** `t` (N, C, …) with `delta[c]` added to every value of channel c (axis 1). */
function addPerChannel(t: TensorData, delta: Float32Array): TensorData {
  const data = Float32Array.from(t.data as Float32Array);
  const { n, c, inner } = channelLayout(t);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const d = delta[ch] as number;
      if (d === 0) continue;
      const from = (b * c + ch) * inner;
      for (let k = 0; k < inner; k++) data[from + k] = (data[from + k] as number) + d;
    }
  return { ...t, data };
}

function biasOf(layer: { readonly params: readonly { readonly role: string; readonly tensor: string }[] }): string {
  return layer.params.find((p) => p.role === 'bias')?.tensor as string;
}
