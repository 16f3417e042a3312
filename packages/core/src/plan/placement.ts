import type { GraphView, Layer, NodeView } from '../graph/graph-view.js';
import { DATA_MOVEMENT_OPS, type ParamRole } from '../graph/op-roles.js';
import { bodiesOf, insideIfOnly, readByBodies } from '../graph/scopes.js';
import { isFloatType } from '../onnx/dtype.js';
import type { SkippedTensor } from './plan.js';
import type { QuantizerKind } from './spec.js';

/** AIMET's default supergroups: no quantizer between these ops. */
export const DEFAULT_SUPERGROUPS: readonly (readonly string[])[] = [
  ['Conv', 'Relu'],
  ['Conv', 'Clip'],
  ['ConvTranspose', 'Relu'],
  ['Add', 'Relu'],
  ['Gemm', 'Relu'],
];

/** A place where a quantizer can sit, before any settings are applied. */
export interface QuantizerSlot {
  readonly id: string;
  readonly tensor: string;
  readonly kind: QuantizerKind;
  /** Producer (activation) or consumer (param, input) layer; undefined for graph inputs. */
  readonly layer: string | undefined;
  readonly opType: string | undefined;
  /** Every layer of the supergroup that ends here (activations only). */
  readonly supergroup: readonly string[] | undefined;
  readonly paramRole?: ParamRole;
  readonly inputIndex?: number;
  /** The output-channel axis of a param, for per-channel quantization. */
  readonly channelAxis: number | undefined;
  readonly isGraphInput: boolean;
  readonly isGraphOutput: boolean;
  /** The If branch that holds the tensor (see `QuantizerSpec.scope`); absent in the main graph. */
  readonly scope?: string;
}

/** Where quantizers go in a graph, as AIMET places them. */
export interface Placement {
  readonly slots: readonly QuantizerSlot[];
  readonly skipped: readonly SkippedTensor[];
  /** For each layer, the activation inputs that could take an input quantizer. */
  readonly inputCandidates: ReadonlyMap<string, readonly { index: number; tensor: string }[]>;
}

/**
 * Places quantizers: on float graph inputs and op outputs, except outputs of data-movement ops
 * (they keep their input's encoding), tensors inside a supergroup, non-float and unused tensors;
 * and on parameters (weights, biases…) of layers. The same inside If branches, nested ones
 * included (slots with a `scope`); Loop and Scan bodies are reported, not quantized.
 */
export function placeQuantizers(graph: GraphView, supergroups: readonly (readonly string[])[]): Placement {
  const slots: QuantizerSlot[] = [];
  const skipped: SkippedTensor[] = [];

  for (const name of graph.inputs) {
    const t = graph.tensor(name);
    if (!t) continue;
    if (!isFloatType(t.dtype)) {
      skipped.push({ tensor: name, reason: `graph input of type ${t.dtype ?? 'unknown'}, not floating point` });
      continue;
    }
    slots.push({
      id: `activation:${name}`,
      tensor: name,
      kind: 'activation',
      layer: undefined,
      opType: undefined,
      supergroup: undefined,
      channelAxis: undefined,
      isGraphInput: true,
      isGraphOutput: t.isGraphOutput,
    });
  }

  const inputCandidates = new Map<string, { index: number; tensor: string }[]>();
  const placed = new Set<string>(slots.map((s) => s.tensor));
  placeInView(graph, undefined, supergroups, { slots, skipped, inputCandidates, placed });
  for (const body of bodiesOf(graph).values()) {
    if (insideIfOnly(graph, body.path)) {
      placeInView(body.view, body.path, supergroups, { slots, skipped, placed });
      continue;
    }
    // Only the outermost body that is not quantized is listed: its nested bodies go with it.
    if (body.parent.path !== '' && !insideIfOnly(graph, body.parent.path)) continue;
    const nodes = body.view.nodes.length + body.view.subgraphs.reduce((n, s) => n + s.graph.nodes.length, 0);
    skipped.push({
      tensor: body.path,
      reason: `${body.owner.opType} body of ${body.owner.name} (${nodes} nodes): quantsim quantizes inside If branches, not yet inside Loop/Scan bodies, so its tensors stay float`,
      subgraph: { owner: body.owner.name, attribute: body.attribute, nodes },
    });
  }
  return { slots, skipped, inputCandidates };
}

/** Where {@link placeInView} writes; `placed` holds every tensor name with a slot so far. */
interface PlacementSink {
  readonly slots: QuantizerSlot[];
  readonly skipped: SkippedTensor[];
  readonly inputCandidates?: Map<string, { index: number; tensor: string }[]>;
  readonly placed: Set<string>;
}

/**
 * Slots on the op outputs and params of one graph: the main graph (`scope` undefined) or an If
 * branch. A tensor that only nested bodies read counts as used. In a branch, its outputs are not
 * model outputs, and only float32 tensors are placed (statistics leave a branch as float32
 * outputs of its If).
 */
function placeInView(
  view: GraphView,
  scope: string | undefined,
  supergroups: readonly (readonly string[])[],
  sink: PlacementSink,
): void {
  const groups = findSupergroups(view, supergroups);
  // Tensors read only inside If/Loop/Scan bodies (by name, from the outer scope) are used too.
  const nested = readByBodies(view);
  const inScope = scope === undefined ? {} : { scope };
  for (const layer of view.layers) {
    const node = layer.node;
    for (const out of node.outputs) {
      if (out === '') continue;
      const t = view.tensor(out);
      const reason = skipReason(node, out, view, groups.interior, nested, scope !== undefined);
      if (reason || !t) {
        sink.skipped.push({ tensor: out, reason: reason ?? 'unknown tensor' });
        continue;
      }
      if (sink.placed.has(out)) {
        sink.skipped.push({ tensor: out, reason: 'its name is used in another If branch too; only the first is quantized' });
        continue;
      }
      sink.placed.add(out);
      sink.slots.push({
        id: `activation:${out}`,
        tensor: out,
        kind: 'activation',
        layer: layer.name,
        opType: layer.opType,
        supergroup: groups.endings.get(layer.name),
        channelAxis: undefined,
        isGraphInput: false,
        isGraphOutput: scope === undefined && t.isGraphOutput,
        ...inScope,
      });
    }
    for (const p of layer.params) {
      if (sink.placed.has(p.tensor)) continue;
      const t = view.tensor(p.tensor);
      if (t?.dtype && !isFloatType(t.dtype)) {
        sink.placed.add(p.tensor);
        sink.skipped.push({ tensor: p.tensor, reason: `parameter of type ${t.dtype}, not floating point` });
        continue;
      }
      sink.placed.add(p.tensor);
      sink.slots.push({
        id: `param:${p.tensor}`,
        tensor: p.tensor,
        kind: 'param',
        layer: layer.name,
        opType: layer.opType,
        supergroup: undefined,
        paramRole: p.role,
        inputIndex: p.inputIndex,
        channelAxis: outputChannelAxis(layer, p.inputIndex, p.shape?.length),
        isGraphInput: false,
        isGraphOutput: false,
        ...inScope,
      });
    }
    if (!sink.inputCandidates) continue;
    const params = new Set(layer.params.map((p) => p.tensor));
    const candidates = layer.inputs
      .map((tensor, index) => ({ index, tensor }))
      .filter(({ tensor }) => {
        if (tensor === '' || params.has(tensor)) return false;
        const t = view.tensor(tensor);
        return t !== undefined && t.role !== 'constant' && t.role !== 'param' && isFloatType(t.dtype);
      });
    sink.inputCandidates.set(layer.name, candidates);
  }
}

function skipReason(
  node: NodeView,
  out: string,
  graph: GraphView,
  interior: ReadonlyMap<string, string>,
  readByNested: ReadonlySet<string>,
  inBranch: boolean,
): string | undefined {
  const t = graph.tensor(out);
  if (!t) return 'unknown tensor';
  if (t.dtype === undefined) return 'element type unknown';
  if (!isFloatType(t.dtype)) return `${t.dtype}, not floating point`;
  if (inBranch && t.dtype !== 'float32') return `${t.dtype} inside an If branch: only float32 tensors are observed there`;
  if (t.consumers.length === 0 && !t.isGraphOutput && !readByNested.has(out)) return 'not used by any node';
  if (node.domain === '' && DATA_MOVEMENT_OPS.has(node.opType))
    return `keeps the encoding of its input (${node.opType} moves data without changing values)`;
  const group = interior.get(out);
  if (group) return `inside supergroup ${group}: no quantizer between fused ops`;
  return undefined;
}

/**
 * The output-channel axis of a weight: Conv 0 ([M, C/g, k…]), ConvTranspose 1 ([C, M/g, k…]: with
 * group g > 1 each of the M/g encodings is shared by the g groups, since one axis of the weight
 * cannot hold M = g·(M/g) channels), Gemm 0 with transB else 1, MatMul the last axis (input 1)
 * or the one before it (input 0). The same axis the int32 bias writers scale by.
 */
export function outputChannelAxis(layer: Layer, inputIndex: number, rank: number | undefined): number | undefined {
  if (inputIndex !== 1 && !(layer.opType === 'MatMul' && inputIndex === 0)) return undefined;
  switch (layer.opType) {
    case 'Conv':
      return 0;
    case 'ConvTranspose':
      return 1;
    case 'Gemm':
      return layer.node.attributes.some((a) => a.name === 'transB' && a.i !== 0n) ? 0 : 1;
    case 'MatMul':
      return inputIndex === 1 ? (rank ?? 2) - 1 : Math.max(0, (rank ?? 2) - 2);
    default:
      return undefined;
  }
}

/**
 * Finds chains of ops matching a supergroup pattern, where each op's only output feeds only the
 * next op. Interior tensors get no quantizer; the last op's output carries the group.
 */
function findSupergroups(
  graph: GraphView,
  patterns: readonly (readonly string[])[],
): { interior: Map<string, string>; endings: Map<string, string[]> } {
  const interior = new Map<string, string>();
  const endings = new Map<string, string[]>();
  const sorted = [...patterns].sort((a, b) => b.length - a.length);
  const used = new Set<string>();
  for (const node of graph.nodes) {
    if (used.has(node.name)) continue;
    for (const pattern of sorted) {
      const chain = matchChain(graph, node, pattern);
      if (!chain || chain.some((n) => used.has(n.name))) continue;
      const label = pattern.join('+');
      const names = chain.map((n) => n.name);
      for (const n of chain.slice(0, -1)) {
        interior.set(n.outputs[0] as string, `${label} (${names.join(' → ')})`);
        used.add(n.name);
      }
      const last = chain[chain.length - 1] as NodeView;
      used.add(last.name);
      endings.set(last.name, names);
      break;
    }
  }
  return { interior, endings };
}

function matchChain(graph: GraphView, start: NodeView, pattern: readonly string[]): NodeView[] | undefined {
  if (start.opType !== pattern[0] || start.domain !== '') return undefined;
  const chain = [start];
  let current = start;
  for (const op of pattern.slice(1)) {
    const outs = current.outputs.filter((o) => o !== '');
    if (outs.length !== 1) return undefined;
    const t = graph.tensor(outs[0] as string);
    if (!t || t.isGraphOutput || t.consumers.length !== 1) return undefined;
    const next = t.consumers[0]?.node;
    if (!next || next.opType !== op || next.domain !== '' || t.consumers[0]?.index !== 0) return undefined;
    chain.push(next);
    current = next;
  }
  return chain;
}
