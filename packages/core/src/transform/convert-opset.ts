import { create } from '@bufbuild/protobuf';
import { TensorProto_DataType as DT, type GraphProto, type NodeProto, type TensorProto, TensorProtoSchema } from 'onnx-buf';
import { InvalidArgumentError, UnsupportedError } from '../errors/quantsim-error.js';
import type { Model } from '../model/model.js';
import { float16ToBytes } from '../onnx/float16.js';
import { definedNames, pruneOrphans, readNames, subgraphsOf, uniqueNames } from '../onnx/graph-edit.js';
import { float32ToBytes, int64ToBytes } from '../onnx/tensor-values.js';
import { type AdapterContext, getAttr, OP_RULES } from './opset-adapters.js';
import { inferTensorInfo, type TensorInfo, tensorValues } from './tensor-info.js';

/** The newest default-domain opset {@link convertToOpset} has been checked against. */
export const MAX_CONVERTIBLE_OPSET = 21;

/** The lowest IR version that may carry each opset (ONNX's versioning table, docs/Versioning.md). */
const IR_FOR_OPSET: Readonly<Record<number, number>> = {
  7: 3,
  8: 3,
  9: 4,
  10: 5,
  11: 6,
  12: 7,
  13: 7,
  14: 7,
  15: 8,
  16: 8,
  17: 8,
  18: 8,
  19: 9,
  20: 9,
  21: 10,
};

/** The result of {@link convertOpset}. */
export interface OpsetConversion {
  /** The converted model (a new model; the input is not modified). */
  readonly model: Model;
  /**
   * For every node of the source model's main graph (by identity), the nodes of the converted
   * main graph that stand for it: its rewritten copy, plus any node inserted around it (a
   * Softmax whose axis was not the last gets a Shape, a Flatten and a Reshape).
   */
  readonly replacements: ReadonlyMap<NodeProto, readonly NodeProto[]>;
}

/** One node the converter cannot bring forward. */
interface Refusal {
  readonly opType: string;
  readonly from: number;
  readonly reason: string;
}

/**
 * Upgrades the default-domain (`ai.onnx`) opset of a model and its If/Loop/Scan subgraphs to
 * `target`, rewriting every node whose operator changed signature or meaning on the way:
 * attributes that became inputs (Clip min/max at 11, Slice at 10, Squeeze/Unsqueeze/ReduceSum
 * axes and Split sizes at 13, the other Reduce ops' axes at 18, Pad at 11, TopK k at 10,
 * Dropout ratio at 12, Reshape shape at 5), Softmax/LogSoftmax/Hardmax's axis (13), Upsample
 * (→ Resize at 10) and Resize's coordinate defaults (11, 13), BatchNormalization's spatial and
 * training outputs (9, 14), the legacy broadcast attributes (7), and more; ops whose behaviour
 * did not change keep their node. Other domains keep their opsets, and the IR version is raised
 * to one that carries `target`.
 *
 * Every node is checked before anything is reported: an operator the converter does not know,
 * or a use of one it cannot express at `target`, is listed in one {@link UnsupportedError}.
 *
 * ### Examples
 * ```ts
 * const model = await loadModel('rec.onnx'); // opset 9
 * const at21 = convertToOpset(model, 21);
 * ```
 *
 * @throws InvalidArgumentError when `target` is not an integer between the model's opset and {@link MAX_CONVERTIBLE_OPSET}.
 * @throws UnsupportedError naming every operator (and opsets) that cannot be converted.
 */
export function convertToOpset(model: Model, target: number): Model {
  return convertOpset(model, target).model;
}

/**
 * {@link convertToOpset}, also returning which converted nodes stand for each source node, so
 * that a caller can find its layers again (the QDQ export does).
 *
 * @throws InvalidArgumentError for a target below the model's opset or above {@link MAX_CONVERTIBLE_OPSET}.
 * @throws UnsupportedError naming every operator (and opsets) that cannot be converted.
 */
export function convertOpset(model: Model, target: number): OpsetConversion {
  const from = model.opset;
  if (!Number.isInteger(target) || target < from || (target > MAX_CONVERTIBLE_OPSET && target !== from))
    throw new InvalidArgumentError(
      `convertToOpset(model, ${JSON.stringify(target)}): the target must be an integer opset from the model's own (${from}) to ${MAX_CONVERTIBLE_OPSET}.`,
      { hint: `Pass an opset between ${from} and ${MAX_CONVERTIBLE_OPSET}; quantsim only upgrades models.` },
    );
  const out = model.clone();
  const source = model.proto.graph?.node ?? [];
  const replacements = new Map<NodeProto, NodeProto[]>();
  const graph = out.proto.graph;
  if (!graph || from === target) {
    graph?.node.forEach((n, i) => {
      const original = source[i];
      if (original) replacements.set(original, [n]);
    });
    return { model: out, replacements };
  }
  for (const f of out.proto.functions)
    if (f.opsetImport.some((o) => (o.domain === '' || o.domain === 'ai.onnx') && Number(o.version) !== target))
      throw new UnsupportedError(
        `convertToOpset: the model defines function ${f.domain}.${f.name}, whose body uses opset ${f.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version}; quantsim does not convert model-local functions.`,
        { hint: `Inline the functions (onnx.inliner.inline_local_functions) or export the model at opset ${target}.` },
      );

  const names = new Set<string>();
  const used = new Set<string>();
  collectNames(graph, names, used);
  for (const o of graph.output) used.add(o.name);
  const refusals: Refusal[] = [];
  const state: ConversionState = { from, target, names, used, refusals };
  convertGraph(graph, state, new Map(), (index, nodes) => {
    const original = source[index];
    if (original) replacements.set(original, nodes);
  });
  if (refusals.length > 0) throw conversionError(model, from, target, refusals);

  const entry = out.proto.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (entry) entry.version = BigInt(target);
  const ir = BigInt(IR_FOR_OPSET[target] ?? 10);
  if (out.proto.irVersion < ir) out.proto.irVersion = ir;
  return { model: out, replacements };
}

interface ConversionState {
  readonly from: number;
  readonly target: number;
  readonly names: Set<string>;
  readonly used: Set<string>;
  readonly refusals: Refusal[];
}

/** Every tensor and node-output name in the model, and every name something reads. */
function collectNames(graph: GraphProto, names: Set<string>, used: Set<string>): void {
  definedNames(graph, names);
  readNames(graph, used);
}

function convertGraph(
  graph: GraphProto,
  state: ConversionState,
  outer: ReadonlyMap<string, TensorInfo>,
  onNode: (index: number, nodes: NodeProto[]) => void,
): void {
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer) constants.set(t.name, t);
  for (const n of graph.node) {
    const value = n.opType === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx') ? getAttr(n, 'value')?.t : undefined;
    if (value && n.output[0]) constants.set(n.output[0], value);
  }
  const constant = (name: string) => {
    const t = constants.get(name);
    return t ? tensorValues(t) : undefined;
  };
  const info = inferTensorInfo(graph, constant, outer);
  const readBefore = readNames(graph);
  const added: TensorProto[] = [];
  const unique = uniqueNames(state.names);
  const addTensor = (tensor: TensorProto) => {
    added.push(tensor);
    constants.set(tensor.name, tensor);
    return tensor.name;
  };
  const nodes: NodeProto[] = [];
  graph.node.forEach((node, index) => {
    for (const a of node.attribute) for (const g of subgraphsOf(a)) convertGraph(g, state, info, () => undefined);
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      nodes.push(node);
      onNode(index, [node]);
      return;
    }
    // consumed_inputs (a memory hint of opsets 1–5) was dropped everywhere at 6.
    if (state.from < 6) node.attribute = node.attribute.filter((a) => a.name !== 'consumed_inputs');
    const before: NodeProto[] = [];
    const after: NodeProto[] = [];
    let version = state.from;
    const ctx: AdapterContext = {
      get version() {
        return version;
      },
      target: state.target,
      info: (name) => info.get(name),
      constant,
      isUsed: (name) => state.used.has(name),
      unique,
      int64: (base, values, dims = [values.length]) =>
        addTensor(
          create(TensorProtoSchema, {
            name: unique(base),
            dataType: DT.INT64,
            dims: dims.map((d) => BigInt(d)),
            rawData: int64ToBytes(values) as Uint8Array<ArrayBuffer>,
          }),
        ),
      floating: (base, values, dtype = DT.FLOAT, dims = [values.length]) =>
        addTensor(
          create(TensorProtoSchema, {
            name: unique(base),
            dataType: dtype,
            dims: dims.map((d) => BigInt(d)),
            rawData: floatBytes(values, dtype),
          }),
        ),
      before: (n) => before.push(n),
      after: (n) => after.push(n),
    };
    const original = node.opType;
    for (;;) {
      const rule = OP_RULES.get(node.opType);
      if (!rule) {
        state.refusals.push({ opType: node.opType, from: state.from, reason: 'no conversion is known for this operator' });
        break;
      }
      if (rule.minSource !== undefined && version < rule.minSource) {
        state.refusals.push({
          opType: node.opType,
          from: state.from,
          reason: `its form before opset ${rule.minSource} is not handled`,
        });
        break;
      }
      const step = rule.steps?.find((s) => s.at > version && s.at <= state.target);
      if (!step) break;
      const reason = step.adapt(node, ctx);
      if (reason) {
        state.refusals.push({ opType: original, from: state.from, reason });
        break;
      }
      version = step.at;
    }
    nodes.push(...before, node, ...after);
    onNode(index, [node, ...before, ...after]);
  });
  graph.node = nodes;
  graph.initializer.push(...added);
  pruneOrphans(graph, readBefore);
}

function floatBytes(values: readonly number[], dtype: number): Uint8Array<ArrayBuffer> {
  if (dtype === DT.FLOAT16) return float16ToBytes(values) as Uint8Array<ArrayBuffer>;
  if (dtype === DT.DOUBLE) return new Uint8Array(Float64Array.from(values).buffer);
  if (dtype === DT.BFLOAT16) {
    // bfloat16 is the upper half of a float32 (truncated: the old attributes were float32 anyway).
    const f = new Float32Array(values);
    const u = new Uint16Array(values.length);
    const bits = new Uint32Array(f.buffer);
    for (let i = 0; i < values.length; i++) u[i] = (bits[i] as number) >>> 16;
    return new Uint8Array(u.buffer);
  }
  return float32ToBytes(Float32Array.from(values)) as Uint8Array<ArrayBuffer>;
}

function conversionError(model: Model, from: number, target: number, refusals: readonly Refusal[]): UnsupportedError {
  const groups = new Map<string, { opType: string; from: number; reason: string; count: number }>();
  for (const r of refusals) {
    const key = `${r.opType}\u0000${r.reason}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { ...r, count: 1 });
  }
  const ops = [...new Set(refusals.map((r) => r.opType))];
  const lines = [...groups.values()].map(
    (g) => `  - ${g.opType} (opset ${g.from} → ${target}, ${g.count} node${g.count === 1 ? '' : 's'}): ${g.reason}`,
  );
  return new UnsupportedError(
    `Cannot convert ${model.origin.source} from opset ${from} to ${target}: ${ops.length} operator${ops.length === 1 ? '' : 's'} (${ops.join(', ')}) cannot be brought forward:\n${lines.join('\n')}\n`,
    {
      hint: `Export the model at opset ${target} from its framework (or convert it with onnx.version_converter and check the result), then load it again; to export without the QDQ model, leave 'qdq' out of formats.`,
    },
  );
}
