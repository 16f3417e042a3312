import { type TensorProto, TensorProto_DataType } from 'onnx-buf';
import type { GraphView, NodeView } from '../graph/graph-view.js';
import type { Model } from '../model/model.js';
import { overwriteWeights } from '../onnx/graph-edit.js';
import { tensorToFloat32 } from '../onnx/tensor-values.js';

/** Options of {@link equalizeModel}. */
export interface EqualizeOptions {
  /**
   * Move the part of each equalized layer's bias that the next layer can absorb into that
   * layer's bias (AIMET's high-bias fold; needs the statistics of a folded BatchNorm). Default true.
   */
  readonly highBiasAbsorption?: boolean;
}

/** The output statistics of a BatchNormalization that was folded into a layer: `β` (mean) and `γ` (spread). */
export interface BatchNormStats {
  /** The BatchNorm's scale γ: the spread of its output, per channel. */
  readonly gamma: Float32Array;
  /** The BatchNorm's shift β: the mean of its output, per channel. */
  readonly beta: Float32Array;
}

/** One set of layers that was equalized: a pair, or a triplet through a depthwise convolution. */
export interface EqualizedSet {
  /** Stable names of the Conv layers, in order (two or three). */
  readonly layers: readonly string[];
  /** The op between each two layers: `Relu`, `LeakyRelu`, `PRelu` or `none`. */
  readonly activations: readonly string[];
  /**
   * The scale of each link, per channel: layer k's output channel i was divided by
   * `scales[k][i]` and layer k+1 multiplies it back.
   */
  readonly scales: readonly Float32Array[];
  /** Per link: whether high-bias absorption moved bias across it, or why not. */
  readonly highBias: readonly (true | string)[];
}

/** Layers that follow each other but could not be equalized, with the reason. */
export interface SkippedEqualization {
  /** Stable names of the layers, in order. */
  readonly layers: readonly string[];
  /** Why they were not equalized. */
  readonly reason: string;
}

/** What {@link equalizeModel} did. */
export interface EqualizationReport {
  /** The sets equalized, in the order they were scaled. */
  readonly sets: readonly EqualizedSet[];
  /** Chains of layers that were not equalized, with the reason. */
  readonly skipped: readonly SkippedEqualization[];
}

/** Ops with `f(s·x) = s·f(x)` for every `s > 0`, per channel: scaling passes through them. */
const POSITIVE_HOMOGENEOUS = new Set(['Relu', 'LeakyRelu', 'PRelu']);

/** Element-wise activations that are not positive-homogeneous: a Conv → it → Conv chain is reported. */
const NOT_HOMOGENEOUS: Readonly<Record<string, string>> = {
  HardSwish: 'HardSwish is not positive-homogeneous (x·relu6(x+3)/6 changes shape when x is scaled)',
  HardSigmoid: 'HardSigmoid is not positive-homogeneous',
  Sigmoid: 'Sigmoid is not positive-homogeneous',
  Tanh: 'Tanh is not positive-homogeneous',
  Clip: 'Clip (ReLU6) is not positive-homogeneous: its bounds do not scale (AIMET replaces ReLU6 with ReLU first, which changes the function)',
  Elu: 'Elu is not positive-homogeneous',
  Selu: 'Selu is not positive-homogeneous',
  Softplus: 'Softplus is not positive-homogeneous',
  Softsign: 'Softsign is not positive-homogeneous',
  Gelu: 'Gelu is not positive-homogeneous',
  Mish: 'Mish is not positive-homogeneous',
  Swish: 'Swish is not positive-homogeneous',
};

/** A Conv layer's parameters, read once and written back at the end. */
interface ConvParams {
  readonly node: NodeView;
  readonly weight: TensorProto;
  readonly dims: readonly number[];
  readonly w: Float32Array;
  readonly bias: { readonly tensor: TensorProto; readonly b: Float32Array } | undefined;
  readonly group: number;
  readonly depthwise: boolean;
  /** Elements per output channel. */
  readonly rowSize: number;
  /** Spatial elements per (output, input) pair. */
  readonly inner: number;
}

interface Link {
  readonly next: NodeView;
  readonly activation: string;
}

/**
 * Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization through Weight
 * Equalization and Bias Correction"), as AIMET does it after BatchNorm folding.
 *
 * For each pair Conv₁ → (Relu | LeakyRelu | PRelu | nothing) → Conv₂ whose middle tensor feeds
 * nothing else, output channel i of Conv₁ is divided by `sᵢ = √(r₁ᵢ·r₂ᵢ) / r₂ᵢ` and input
 * channel i of Conv₂ multiplied by it, where r₁ᵢ is the largest |weight| of Conv₁'s output
 * channel i and r₂ᵢ that of Conv₂'s input channel i: both ranges become √(r₁ᵢ·r₂ᵢ), and the
 * float function is unchanged because the activations in between are positive-homogeneous.
 * Through a depthwise convolution (Conv → DW → Conv), the three ranges become their cube root
 * `∛(r₁·r₂·r₃)` with `s₁₂ = r₁/∛(…)` and `s₂₃ = ∛(…)/r₃` (AIMET's ScaleFactorCalculator).
 *
 * High-bias absorption then moves `cᵢ = max(0, β'ᵢ − 3|γ'ᵢ|)` (ReLU; `β'ᵢ` with no activation)
 * from Conv₁'s bias into Conv₂'s (`b₂ += Σ W₂[:, i] · cᵢ`), with β', γ' the folded BatchNorm's
 * statistics after scaling. That is exact when the pre-activation stays above cᵢ (the 3σ
 * assumption) and, like AIMET, ignores Conv₂'s zero padding.
 *
 * Grouped (non-depthwise) convolutions, shared or non-float weights, and non-positive-homogeneous
 * activations (HardSwish, Sigmoid, Clip…) are reported in `skipped` with the reason.
 *
 * @param model the model, usually after {@link foldBatchNorms}; it is not modified.
 * @param batchNorms statistics of the BatchNorms folded into each layer, by layer name (see
 *   {@link foldedBatchNormStats}); layers without them get no high-bias absorption.
 * @returns a new model and what was equalized.
 */
export function equalizeModel(
  model: Model,
  batchNorms: ReadonlyMap<string, BatchNormStats> = new Map(),
  options: EqualizeOptions = {},
): { model: Model; report: EqualizationReport } {
  const out = model.clone();
  const view = out.graph;
  const sets: EqualizedSet[] = [];
  const skipped: SkippedEqualization[] = [];
  const params = new Map<string, ConvParams | string>();
  const get = (n: NodeView) => {
    let p = params.get(n.name);
    if (p === undefined) {
      p = readConv(out, view, n);
      params.set(n.name, p);
    }
    return p;
  };
  const started = new Set<string>();

  for (const first of view.nodes) {
    if (first.opType !== 'Conv' || first.domain !== '' || started.has(first.name)) continue;
    const link = nextConv(view, first, skipped);
    if (!link) continue;
    const a = get(first);
    const b = get(link.next);
    if (typeof a === 'string' || typeof b === 'string') {
      skipped.push({ layers: [first.name, link.next.name], reason: typeof a === 'string' ? a : (b as string) });
      continue;
    }
    if (a.group !== 1 && !a.depthwise) {
      skipped.push({ layers: [first.name, link.next.name], reason: `${first.name} is a grouped convolution (group ${a.group})` });
      continue;
    }
    if (b.depthwise) {
      const link2 = nextConv(view, link.next, skipped);
      const c = link2 ? get(link2.next) : undefined;
      if (!link2 || !c || typeof c === 'string' || c.group !== 1 || a.depthwise || (a.dims[0] ?? 0) !== (b.dims[0] ?? 0)) {
        skipped.push({
          layers: [first.name, link.next.name, ...(link2 ? [link2.next.name] : [])],
          reason: !link2
            ? `depthwise ${link.next.name} is not followed (directly or through one Relu, LeakyRelu or PRelu) by a Conv that can absorb its scale`
            : typeof c === 'string'
              ? c
              : 'the triplet needs Conv (group 1) → depthwise Conv → Conv (group 1) of matching channels',
        });
        continue;
      }
      started.add(first.name);
      started.add(link.next.name);
      sets.push(scaleTriplet(a, b, c, [link.activation, link2.activation], batchNorms, options));
      continue;
    }
    if (b.group !== 1) {
      skipped.push({
        layers: [first.name, link.next.name],
        reason: `${link.next.name} is a grouped convolution (group ${b.group})`,
      });
      continue;
    }
    if ((a.dims[0] ?? 0) !== (b.dims[1] ?? 0)) {
      skipped.push({ layers: [first.name, link.next.name], reason: 'channel counts do not match' });
      continue;
    }
    started.add(first.name);
    sets.push(scalePair(a, b, link.activation, batchNorms, options));
  }
  for (const p of params.values()) {
    if (typeof p === 'string') continue;
    overwriteWeights(p.weight, p.w);
    if (p.bias) overwriteWeights(p.bias.tensor, p.bias.b);
  }
  return { model: out, report: { sets, skipped } };
}

/**
 * The statistics of the BatchNorms that {@link foldBatchNorms} folded, read from the model
 * before folding, by the layer that absorbed each.
 *
 * @param original the model before folding.
 * @param foldedInto folded BatchNormalization name → layer name (`PreparedModel.foldedInto`).
 */
export function foldedBatchNormStats(original: Model, foldedInto: ReadonlyMap<string, string>): Map<string, BatchNormStats> {
  const out = new Map<string, BatchNormStats>();
  for (const [bn, layer] of foldedInto) {
    const node = original.graph.node(bn);
    const gamma = node?.inputs[1] ? original.constantValues(node.inputs[1]) : undefined;
    const beta = node?.inputs[2] ? original.constantValues(node.inputs[2]) : undefined;
    if (gamma && beta) out.set(layer, { gamma, beta });
  }
  return out;
}

/** The Conv that `node`'s output reaches through at most one positive-homogeneous activation. */
function nextConv(view: GraphView, node: NodeView, skipped: SkippedEqualization[]): Link | undefined {
  const only = (tensor: string | undefined) => {
    const t = tensor ? view.tensor(tensor) : undefined;
    if (!t || t.isGraphOutput || t.consumers.length !== 1) return undefined;
    return t.consumers[0];
  };
  const c = only(node.outputs[0]);
  if (!c) return undefined;
  if (c.node.opType === 'Conv' && c.node.domain === '' && c.index === 0) return { next: c.node, activation: 'none' };
  if (c.index !== 0 || c.node.domain !== '') return undefined;
  const after = only(c.node.outputs[0]);
  if (after?.node.opType !== 'Conv' || after.node.domain !== '' || after.index !== 0) return undefined;
  if (POSITIVE_HOMOGENEOUS.has(c.node.opType)) return { next: after.node, activation: c.node.opType };
  const reason = NOT_HOMOGENEOUS[c.node.opType];
  if (reason) skipped.push({ layers: [node.name, after.node.name], reason: `${reason} (${c.node.name})` });
  return undefined;
}

function readConv(model: Model, view: GraphView, node: NodeView): ConvParams | string {
  const wName = node.inputs[1];
  const bName = node.inputs[2] || undefined;
  const uses = (t: string) => view.tensor(t)?.consumers.length ?? 0;
  const weight = wName ? model.constantTensor(wName) : undefined;
  if (!wName || !weight || weight.dataType !== TensorProto_DataType.FLOAT || uses(wName) !== 1)
    return `${node.name}'s weight is not a float32 constant used by this layer only`;
  const biasTensor = bName ? model.constantTensor(bName) : undefined;
  if (bName && (!biasTensor || biasTensor.dataType !== TensorProto_DataType.FLOAT || uses(bName) !== 1))
    return `${node.name}'s bias is not a float32 constant used by this layer only`;
  const read = (t: TensorProto) => tensorToFloat32(t, (tp) => model.externalBytes(tp) ?? new Uint8Array());
  const dims = weight.dims.map(Number);
  if (dims.length < 3) return `${node.name}'s weight has rank ${dims.length}`;
  const group = Number(node.attributes.find((a) => a.name === 'group')?.i ?? 1n);
  const inner = dims.slice(2).reduce((x, y) => x * y, 1);
  return {
    node,
    weight,
    dims,
    w: read(weight),
    bias: biasTensor ? { tensor: biasTensor, b: read(biasTensor) } : undefined,
    group,
    depthwise: group > 1 && group === dims[0] && dims[1] === 1,
    rowSize: (dims[1] ?? 0) * inner,
    inner,
  };
}

/** Largest |w| of each output channel. */
export function outputChannelRanges(w: Float32Array, dims: readonly number[]): Float32Array {
  const channels = dims[0] ?? 0;
  const row = w.length / Math.max(channels, 1);
  const r = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    let m = 0;
    for (let k = o * row; k < (o + 1) * row; k++) m = Math.max(m, Math.abs(w[k] as number));
    r[o] = m;
  }
  return r;
}

/** Largest |w| of each input channel of a group-1 convolution weight `[O, I, …]`. */
export function inputChannelRanges(w: Float32Array, dims: readonly number[]): Float32Array {
  const [o = 0, i = 0] = dims;
  const inner = dims.slice(2).reduce((x, y) => x * y, 1);
  const r = new Float32Array(i);
  for (let a = 0; a < o; a++)
    for (let c = 0; c < i; c++) {
      const base = (a * i + c) * inner;
      let m = r[c] as number;
      for (let k = 0; k < inner; k++) m = Math.max(m, Math.abs(w[base + k] as number));
      r[c] = m;
    }
  return r;
}

/** Divides output channel i of `p` (weights and bias) by `s[i]`. */
function divideOutputs(p: ConvParams, s: Float32Array): void {
  for (let o = 0; o < s.length; o++) {
    const f = s[o] as number;
    for (let k = o * p.rowSize; k < (o + 1) * p.rowSize; k++) p.w[k] = (p.w[k] as number) / f;
    if (p.bias) p.bias.b[o] = (p.bias.b[o] as number) / f;
  }
}

/** Multiplies input channel i of a group-1 convolution by `s[i]`. */
function multiplyInputs(p: ConvParams, s: Float32Array): void {
  const [o = 0, i = 0] = p.dims;
  for (let a = 0; a < o; a++)
    for (let c = 0; c < i; c++) {
      const base = (a * i + c) * p.inner;
      for (let k = 0; k < p.inner; k++) p.w[base + k] = (p.w[base + k] as number) * (s[c] as number);
    }
}

function scalePair(
  a: ConvParams,
  b: ConvParams,
  activation: string,
  batchNorms: ReadonlyMap<string, BatchNormStats>,
  options: EqualizeOptions,
): EqualizedSet {
  const r1 = outputChannelRanges(a.w, a.dims);
  const r2 = inputChannelRanges(b.w, b.dims);
  const s = new Float32Array(r1.length);
  for (let i = 0; i < s.length; i++) {
    const g = Math.sqrt((r1[i] as number) * (r2[i] as number));
    s[i] = g > 0 ? (r1[i] as number) / g : 1;
  }
  divideOutputs(a, s);
  multiplyInputs(b, s);
  const hb = absorbHighBias(a, b, activation, s, batchNorms, options);
  return { layers: [a.node.name, b.node.name], activations: [activation], scales: [s], highBias: [hb] };
}

function scaleTriplet(
  a: ConvParams,
  dw: ConvParams,
  c: ConvParams,
  activations: readonly string[],
  batchNorms: ReadonlyMap<string, BatchNormStats>,
  options: EqualizeOptions,
): EqualizedSet {
  const r1 = outputChannelRanges(a.w, a.dims);
  const r2 = outputChannelRanges(dw.w, dw.dims);
  const r3 = inputChannelRanges(c.w, c.dims);
  const n = r1.length;
  const s12 = new Float32Array(n).fill(1);
  const s23 = new Float32Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    const x = r1[i] as number;
    const y = r2[i] as number;
    const z = r3[i] as number;
    if (x === 0 || y === 0 || z === 0) continue;
    const cube = Math.cbrt(x * y * z);
    s12[i] = x / cube;
    s23[i] = cube / z;
  }
  divideOutputs(a, s12);
  // The depthwise layer takes channel i scaled by 1/s12 and gives it out scaled by 1/s23.
  for (let i = 0; i < n; i++) {
    const f = (s12[i] as number) / (s23[i] as number);
    for (let k = i * dw.rowSize; k < (i + 1) * dw.rowSize; k++) dw.w[k] = (dw.w[k] as number) * f;
    if (dw.bias) dw.bias.b[i] = (dw.bias.b[i] as number) / (s23[i] as number);
  }
  multiplyInputs(c, s23);
  const hb1 = absorbHighBias(a, dw, activations[0] as string, s12, batchNorms, options);
  const hb2 = absorbHighBias(dw, c, activations[1] as string, s23, batchNorms, options);
  return {
    layers: [a.node.name, dw.node.name, c.node.name],
    activations: [...activations],
    scales: [s12, s23],
    highBias: [hb1, hb2],
  };
}

/** AIMET's high-bias fold across one link; returns true or why it did not apply. */
function absorbHighBias(
  prev: ConvParams,
  next: ConvParams,
  activation: string,
  scale: Float32Array,
  batchNorms: ReadonlyMap<string, BatchNormStats>,
  options: EqualizeOptions,
): true | string {
  if (options.highBiasAbsorption === false) return 'off';
  if (activation !== 'Relu' && activation !== 'none') return `not through ${activation}`;
  const bn = batchNorms.get(prev.node.name);
  if (!bn) return `no folded BatchNorm on ${prev.node.name}`;
  if (!prev.bias || !next.bias) return 'a layer has no bias';
  const n = scale.length;
  if (bn.beta.length !== n || bn.gamma.length !== n) return 'BatchNorm channels do not match';
  const absorbed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const beta = (bn.beta[i] as number) / (scale[i] as number);
    const gamma = (bn.gamma[i] as number) / (scale[i] as number);
    absorbed[i] = activation === 'Relu' ? Math.max(0, beta - 3 * Math.abs(gamma)) : beta;
    prev.bias.b[i] = (prev.bias.b[i] as number) - (absorbed[i] as number);
  }
  if (next.depthwise) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let k = i * next.rowSize; k < (i + 1) * next.rowSize; k++) sum += next.w[k] as number;
      next.bias.b[i] = (next.bias.b[i] as number) + sum * (absorbed[i] as number);
    }
    return true;
  }
  const [o = 0, inputs = 0] = next.dims;
  for (let a = 0; a < o; a++) {
    let add = 0;
    for (let c = 0; c < inputs; c++) {
      const base = (a * inputs + c) * next.inner;
      let sum = 0;
      for (let k = 0; k < next.inner; k++) sum += next.w[base + k] as number;
      add += sum * (absorbed[c] as number);
    }
    next.bias.b[a] = (next.bias.b[a] as number) + add;
  }
  return true;
}
