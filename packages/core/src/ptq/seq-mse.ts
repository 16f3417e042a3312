import type { ChannelEncoding, Encoding } from '../contracts/encoding.js';
import type { QuantizerSpec } from '../contracts/spec.js';
import type { TensorData } from '../contracts/tensor.js';
import { assembleEncoding, computeGrid, gridSteps, roundHalfEven } from '../encode/index.js';
import { fakeQuantizeWeights } from '../encode/quantize-to-grid.js';
import type { Layer } from '../graph/graph-view.js';
import { overwriteWeights } from '../onnx/graph-edit.js';
import { buildSimulatedModel } from '../simulate/simulated-model.js';
import type { PostTrainingInput } from './bias-correction.js';
import { nodeAt, runTruncated } from './partial-model.js';

/** Options of `.seqMse()` and {@link sequentialMse}. */
export interface SeqMseOptions {
  /** Clipping ratios tried per channel: `(i + 1) / candidates` of the largest |w| (AIMET's default 20). */
  readonly candidates?: number;
  /** Calibration samples measured (the first ones; default 16). */
  readonly samples?: number;
  /**
   * Input positions (rows of the layer's im2col matrix) used per layer, taken at an even stride
   * over all samples (default 4096): the loss is exact on those positions.
   */
  readonly positions?: number;
}

/** One layer whose weight encoding Sequential MSE chose. */
export interface SeqMseRecord {
  /** Stable name of the layer. */
  readonly layer: string;
  /** The weight quantizer's id. */
  readonly quantizer: string;
  /** The clipping ratio chosen, per channel (one value for a per-tensor encoding). */
  readonly ratios: Float32Array;
  /** Output squared error summed over the positions used, with the scheme's encoding. */
  readonly lossBefore: number;
  /** The same with the encoding chosen. */
  readonly lossAfter: number;
}

/** A layer Sequential MSE could not optimise, with the reason. */
export interface SeqMseSkipped {
  /** Stable name of the layer. */
  readonly layer: string;
  /** Why it was skipped. */
  readonly reason: string;
}

/** Ops Sequential MSE optimises (AIMET's supported modules). */
export const SEQ_MSE_OPS: ReadonlySet<string> = new Set(['Conv', 'Gemm', 'MatMul']);

/** How a layer reads its input: the rows (patches) that each output channel's weights multiply. */
interface LinearForm {
  /** Output channels and the weight vector of each (length `k`). */
  readonly channels: number;
  readonly k: number;
  readonly groups: number;
  readonly groupOf: (o: number) => number;
  readonly row: (w: Float32Array, o: number, out: Float64Array) => void;
  /** Adds `xxᵀ` of every used patch of one input tensor into the groups' Gram matrices. */
  readonly accumulate: (x: TensorData, grams: Float64Array[], stride: number, seen: { n: number; used: number }) => void;
  readonly axis: number;
}

/**
 * Sequential MSE (AIMET's `seq_mse`, after Frantar et al.'s layer-wise reconstruction): for each
 * Conv, Gemm and MatMul with a quantized constant weight, in topological order, the weight
 * encoding is chosen from `candidates` symmetric clipping ranges `±(i + 1)/candidates · max|w|`
 * (per output channel, or per tensor) to minimise the layer's output squared error
 * `‖x̃W − x̃W̃‖²` on calibration inputs. As in AIMET's default (`inp_symmetry = 'symqt'`), `x̃` is
 * the layer's input in a simulation where only these weights are quantized, the earlier layers
 * with the encodings already chosen; activation quantizers are off while it runs. The loss is
 * computed gradient-free from the Gram matrix `Σ x̃x̃ᵀ`: `(w − w̃)ᵀ G (w − w̃)` per channel.
 *
 * @returns the encodings with the chosen weight encodings, and one record per layer.
 */
export async function sequentialMse(
  input: PostTrainingInput,
  options: SeqMseOptions = {},
): Promise<{ encodings: Map<string, Encoding>; records: SeqMseRecord[]; skipped: SeqMseSkipped[] }> {
  const candidates = options.candidates ?? 20;
  const maxPositions = options.positions ?? 4096;
  const samples = input.samples.slice(0, options.samples ?? 16);
  const { prepared, plan } = input;
  const model = prepared.model;
  const encodings = new Map(input.encodings);
  const skipped: SeqMseSkipped[] = [];
  const targets: { layer: Layer; spec: QuantizerSpec; form: LinearForm }[] = [];
  for (const layer of prepared.graph.layers) {
    if (!SEQ_MSE_OPS.has(layer.opType) || layer.node.domain !== '') continue;
    const wName = layer.opType === 'MatMul' ? layer.inputs[1] : layer.params.find((p) => p.role === 'weight')?.tensor;
    const spec = wName ? plan.forLayer(layer.name).find((q) => q.kind === 'param' && q.tensor === wName) : undefined;
    if (!wName || !spec?.enabled || spec.dtype !== 'int' || !encodings.has(spec.id)) continue;
    const dims = model.constantTensor(wName)?.dims.map(Number);
    const form = dims ? linearForm(layer, dims) : undefined;
    if (typeof form === 'string' || !form) {
      skipped.push({ layer: layer.name, reason: form ?? 'weight is not a constant' });
      continue;
    }
    if (spec.perChannelAxis !== undefined && spec.perChannelAxis !== form.axis) {
      skipped.push({
        layer: layer.name,
        reason: `per-channel axis ${spec.perChannelAxis} is not the output-channel axis ${form.axis}`,
      });
      continue;
    }
    targets.push({ layer, spec, form });
  }
  if (targets.length === 0 || samples.length === 0) return { encodings, records: [], skipped };

  // Only these weights are quantized while the inputs are measured (AIMET disables the rest).
  const weightsOnly = new Map(targets.map((t) => [t.spec.id, encodings.get(t.spec.id) as Encoding]));
  const sim = buildSimulatedModel(prepared, plan, weightsOnly, { qdqTypes: input.backend.capabilities.qdqTypes }).model;
  const records: SeqMseRecord[] = [];
  for (const { layer, spec, form } of targets) {
    const fetch = nodeAt(sim, model, layer.node.proto)?.input[0];
    if (!fetch) continue;
    const grams = Array.from({ length: form.groups }, () => new Float64Array(form.k * form.k));
    // A first pass counts positions, so that the stride spreads the used ones over all samples.
    let total = 0;
    const counted: TensorData[] = [];
    await runTruncated(input.backend, sim, [fetch], samples, 'float', (v) => {
      const t = v[fetch];
      if (t) counted.push(t);
    });
    for (const t of counted) {
      const seen = { n: 0, used: 0 };
      form.accumulate(t, [], Number.POSITIVE_INFINITY, seen);
      total += seen.n;
    }
    const stride = Math.max(1, Math.ceil(total / maxPositions));
    const seen = { n: 0, used: 0 };
    for (const t of counted) form.accumulate(t, grams, stride, seen);
    for (const g of grams) mirror(g, form.k);

    const w = model.constantValues(spec.tensor) as Float32Array;
    const chosen = chooseEncoding(w, form, grams, spec, candidates, encodings.get(spec.id) as Encoding);
    encodings.set(spec.id, chosen.encoding);
    const dims = model.constantTensor(spec.tensor)?.dims.map(Number) ?? [];
    const simTensor = sim.constantTensor(spec.tensor);
    if (simTensor) overwriteWeights(simTensor, fakeQuantizeWeights(w, dims, chosen.encoding));
    records.push({
      layer: layer.name,
      quantizer: spec.id,
      ratios: chosen.ratios,
      lossBefore: chosen.before,
      lossAfter: chosen.after,
    });
  }
  return { encodings, records, skipped };
}

/** Fills the lower triangle of a Gram matrix from the upper one. */
function mirror(g: Float64Array, k: number): void {
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[i * k + j] = g[j * k + i] as number;
}

/** `dᵀ G d`. */
function quadratic(g: Float64Array, d: Float64Array, k: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) {
    const di = d[i] as number;
    if (di === 0) continue;
    let r = 0;
    const base = i * k;
    for (let j = 0; j < k; j++) r += (g[base + j] as number) * (d[j] as number);
    s += di * r;
  }
  return s;
}

function quantizeRow(row: Float64Array, ch: ChannelEncoding, steps: number, out: Float64Array): void {
  for (let i = 0; i < row.length; i++) {
    const q = Math.min(Math.max(roundHalfEven((row[i] as number) / ch.scale), ch.offset), ch.offset + steps);
    out[i] = (row[i] as number) - q * ch.scale;
  }
}

function chooseEncoding(
  w: Float32Array,
  form: LinearForm,
  grams: readonly Float64Array[],
  spec: QuantizerSpec,
  candidates: number,
  current: Encoding,
): { encoding: Encoding; ratios: Float32Array; before: number; after: number } {
  const { channels, k } = form;
  const steps = gridSteps(spec);
  const row = new Float64Array(k);
  const d = new Float64Array(k);
  const perChannel = spec.perChannelAxis !== undefined;
  // loss[c * channels + o]: candidate c on output channel o.
  const loss = new Float64Array(candidates * channels);
  const absMax = new Float64Array(channels);
  let before = 0;
  const grids: ChannelEncoding[][] = [];
  for (let o = 0; o < channels; o++) {
    form.row(w, o, row);
    let m = 0;
    for (let i = 0; i < k; i++) m = Math.max(m, Math.abs(row[i] as number));
    absMax[o] = m;
  }
  const tensorMax = Math.max(...absMax);
  for (let c = 0; c < candidates; c++) {
    const ratio = (c + 1) / candidates;
    const list: ChannelEncoding[] = [];
    for (let o = 0; o < channels; o++) {
      const m = (perChannel ? (absMax[o] as number) : tensorMax) * ratio;
      const grid = perChannel || o === 0 ? computeGrid(-m, m, spec) : (list[0] as ChannelEncoding);
      list.push(grid);
      form.row(w, o, row);
      quantizeRow(row, grid, steps, d);
      loss[c * channels + o] = quadratic(grams[form.groupOf(o)] as Float64Array, d, k);
    }
    grids.push(list);
  }
  for (let o = 0; o < channels; o++) {
    const cur = current.channels[perChannel ? o : 0] as ChannelEncoding;
    form.row(w, o, row);
    quantizeRow(row, cur, steps, d);
    before += quadratic(grams[form.groupOf(o)] as Float64Array, d, k);
  }
  if (perChannel) {
    const ratios = new Float32Array(channels);
    const chosen: ChannelEncoding[] = [];
    let after = 0;
    for (let o = 0; o < channels; o++) {
      let best = 0;
      for (let c = 1; c < candidates; c++)
        if ((loss[c * channels + o] as number) < (loss[best * channels + o] as number)) best = c;
      ratios[o] = (best + 1) / candidates;
      chosen.push(grids[best]?.[o] as ChannelEncoding);
      after += loss[best * channels + o] as number;
    }
    return { encoding: assembleEncoding(spec, chosen, spec.perChannelAxis), ratios, before, after };
  }
  let best = 0;
  let bestLoss = Number.POSITIVE_INFINITY;
  for (let c = 0; c < candidates; c++) {
    let s = 0;
    for (let o = 0; o < channels; o++) s += loss[c * channels + o] as number;
    if (s < bestLoss) {
      bestLoss = s;
      best = c;
    }
  }
  return {
    encoding: assembleEncoding(spec, [grids[best]?.[0] as ChannelEncoding]),
    ratios: Float32Array.of((best + 1) / candidates),
    before,
    after: bestLoss,
  };
}

function intsAttr(layer: Layer, name: string): number[] | undefined {
  const a = layer.node.attributes.find((x) => x.name === name);
  return a ? a.ints.map(Number) : undefined;
}

/** The layer as rows × weight vectors, or why it cannot be. */
function linearForm(layer: Layer, dims: readonly number[]): LinearForm | string {
  if (layer.opType === 'MatMul' || layer.opType === 'Gemm') {
    if (dims.length !== 2) return `weight of rank ${dims.length}`;
    const transB = layer.opType === 'Gemm' && layer.node.attributes.some((a) => a.name === 'transB' && a.i !== 0n);
    if (layer.opType === 'Gemm' && layer.node.attributes.some((a) => a.name === 'transA' && a.i !== 0n)) return 'transA';
    const [d0 = 0, d1 = 0] = dims;
    const k = transB ? d1 : d0;
    const channels = transB ? d0 : d1;
    return {
      channels,
      k,
      groups: 1,
      groupOf: () => 0,
      axis: transB ? 0 : 1,
      row: (w, o, out) => {
        for (let i = 0; i < k; i++) out[i] = (transB ? w[o * k + i] : w[i * channels + o]) as number;
      },
      accumulate: (x, grams, stride, seen) => {
        const data = x.data as Float32Array;
        const rows = data.length / k;
        for (let r = 0; r < rows; r++, seen.n++) {
          if (seen.n % stride !== 0 || !grams[0]) continue;
          seen.used++;
          addOuter(grams[0], data, r * k, k);
        }
      },
    };
  }
  // Conv, 1-D or 2-D, NCHW.
  if (dims.length !== 3 && dims.length !== 4) return `${dims.length - 2}-D convolution`;
  const [out = 0, cg = 0, kh0 = 1, kw0 = 1] = dims;
  const [kh, kw] = dims.length === 3 ? [1, kh0] : [kh0, kw0];
  const group = Number(layer.node.attributes.find((a) => a.name === 'group')?.i ?? 1n);
  const twoD = dims.length === 4;
  const strides = intsAttr(layer, 'strides') ?? [1, 1];
  const dil = intsAttr(layer, 'dilations') ?? [1, 1];
  const [sh, sw] = twoD ? [strides[0] ?? 1, strides[1] ?? 1] : [1, strides[0] ?? 1];
  const [dh, dw] = twoD ? [dil[0] ?? 1, dil[1] ?? 1] : [1, dil[0] ?? 1];
  const autoPad = new TextDecoder().decode(layer.node.attributes.find((a) => a.name === 'auto_pad')?.s ?? new Uint8Array());
  const padsAttr = intsAttr(layer, 'pads');
  const k = cg * kh * kw;
  const perGroup = out / group;
  return {
    channels: out,
    k,
    groups: group,
    groupOf: (o) => Math.floor(o / perGroup),
    axis: 0,
    row: (w, o, dst) => {
      for (let i = 0; i < k; i++) dst[i] = w[o * k + i] as number;
    },
    accumulate: (x, grams, stride, seen) => {
      const data = x.data as Float32Array;
      const [n = 1, c = 0] = x.dims;
      const h = twoD ? (x.dims[2] ?? 1) : 1;
      const wd = twoD ? (x.dims[3] ?? 1) : (x.dims[2] ?? 1);
      let pt: number;
      let pl: number;
      let oh: number;
      let ow: number;
      const span = (size: number, kk: number, d: number, s: number, before: number, after: number) =>
        Math.floor((size + before + after - ((kk - 1) * d + 1)) / s) + 1;
      if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        oh = Math.ceil(h / sh);
        ow = Math.ceil(wd / sw);
        const th = Math.max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h);
        const tw = Math.max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - wd);
        pt = autoPad === 'SAME_UPPER' ? Math.floor(th / 2) : Math.ceil(th / 2);
        pl = autoPad === 'SAME_UPPER' ? Math.floor(tw / 2) : Math.ceil(tw / 2);
      } else {
        const p = autoPad === 'VALID' ? [] : (padsAttr ?? []);
        pt = twoD ? (p[0] ?? 0) : 0;
        pl = twoD ? (p[1] ?? 0) : (p[0] ?? 0);
        const pb = twoD ? (p[2] ?? 0) : 0;
        const pr = twoD ? (p[3] ?? 0) : (p[1] ?? 0);
        oh = span(h, kh, dh, sh, pt, pb);
        ow = span(wd, kw, dw, sw, pl, pr);
      }
      const patch = new Float32Array(k);
      for (let b = 0; b < n; b++)
        for (let y = 0; y < oh; y++)
          for (let xo = 0; xo < ow; xo++, seen.n++) {
            if (seen.n % stride !== 0 || grams.length === 0) continue;
            seen.used++;
            for (let g = 0; g < group; g++) {
              let idx = 0;
              for (let ci = 0; ci < cg; ci++) {
                const chan = g * cg + ci;
                for (let u = 0; u < kh; u++) {
                  const iy = y * sh - pt + u * dh;
                  for (let v = 0; v < kw; v++, idx++) {
                    const ix = xo * sw - pl + v * dw;
                    patch[idx] =
                      iy < 0 || iy >= h || ix < 0 || ix >= wd || chan >= c
                        ? 0
                        : (data[((b * c + chan) * h + iy) * wd + ix] as number);
                  }
                }
              }
              addOuter(grams[g] as Float64Array, patch, 0, k);
            }
          }
    },
  };
}

/** Adds the upper triangle of `x xᵀ` (x = data[offset … offset + k]) into `g`. */
function addOuter(g: Float64Array, data: Float32Array, offset: number, k: number): void {
  for (let i = 0; i < k; i++) {
    const xi = data[offset + i] as number;
    if (xi === 0) continue;
    const base = i * k;
    for (let j = i; j < k; j++) g[base + j] = (g[base + j] as number) + xi * (data[offset + j] as number);
  }
}
