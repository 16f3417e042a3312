import { clone, create } from '@bufbuild/protobuf';
import {
  type GraphProto,
  GraphProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type TensorProto,
} from 'onnx-buf';
import type { QdqElementType } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import { UnsupportedError } from '../errors/quantsim-error.js';
import { scopeProto, viewOfScope } from '../graph/scopes.js';
import type { Model } from '../model/model.js';
import { makeNode, makeTensor, makeValueInfo } from '../onnx/factory.js';
import { renameReads, subgraphsOf } from '../onnx/graph-edit.js';
import { tensorToFloat32 } from '../onnx/tensor-values.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { QuantizerSpec } from '../plan/spec.js';
import { sortNodes } from '../transform/sort-nodes.js';
import { chooseForm, type QuantizerForm } from './qdq-form.js';
import { emitQuantizer, type QuantizerSink, simulatedParamValues, sinksByScope } from './simulated-model.js';

/** One setting of every quantizer: a plan and its encodings (for example all at 8 bits, or all at 16). */
export interface SwitchableVariant {
  /** For messages and reports, e.g. `W8A8`. */
  readonly name: string;
  readonly plan: QuantPlan;
  readonly encodings: EncodingMap;
  /**
   * Biases this variant's bias correction rewrote (tensor → values): they switch with their
   * layer's parameters, so that each variant runs on its own corrected biases.
   */
  readonly biases?: ReadonlyMap<string, Float32Array>;
}

/** Quantizers that are switched together: by default one layer's (or supergroup's) params, or its activations. */
export interface SwitchGroup {
  /** `<unit>|params` or `<unit>|activations` by default. */
  readonly name: string;
  /** The layer that owns the quantizers: the first layer of its supergroup, else its own layer. */
  readonly unit: string;
  /** `params` for parameter quantizers; `activations` for output and input quantizers. */
  readonly kind: 'params' | 'activations';
  /** Quantizer ids, in plan order. */
  readonly quantizers: readonly string[];
}

/** Options of {@link buildSwitchableModel}. */
export interface SwitchableModelOptions {
  /** Q/DQ types the backend runs, as for the plain simulated model. */
  readonly qdqTypes: ReadonlySet<QdqElementType>;
}

/** The simulated model with run-time switches, and what each switch controls. */
export interface SwitchableModel {
  readonly model: Model;
  readonly groups: readonly SwitchGroup[];
  /** Variant names, in the order of {@link SwitchableModel.switchInputs}. */
  readonly variants: readonly string[];
  /**
   * One graph input per variant, `bool[groups.length]`: element `g` true selects that variant
   * for group `g`. A group with no variant selected runs in float.
   */
  readonly switchInputs: readonly string[];
  /** Quantizer id → its form in each variant (`undefined`: float in that variant). */
  readonly forms: ReadonlyMap<string, readonly (QuantizerForm | undefined)[]>;
}

/** The layer that owns a quantizer: the first layer of its supergroup, else its own layer (else its tensor). */
export function quantizerUnit(spec: QuantizerSpec): string {
  return spec.supergroup?.[0] ?? spec.layer ?? spec.tensor;
}

/** The default switch group of a quantizer: its unit's params, or its unit's activations. */
export function defaultSwitchGroup(spec: QuantizerSpec): string {
  return `${quantizerUnit(spec)}|${spec.kind === 'param' ? 'params' : 'activations'}`;
}

/**
 * Builds the simulated model once with every quantizer group switchable at run time, driven by
 * one boolean vector input per variant. An activation or input quantizer gets each variant's
 * quantized path (the nodes {@link buildSimulatedModel} emits) and a chain of `Where` nodes that
 * picks one of them or the float value. A layer whose parameters switch becomes a chain of `If`
 * nodes whose branches hold the layer with that variant's (or the float) weights as constants,
 * so that ONNX Runtime runs the same kernels as for the plain model (pre-packed weights); a
 * parameter read by several layers switches with `Where`. Selecting computes nothing, so a
 * setting gives the plain simulated model's outputs bit for bit when ONNX Runtime rewrites both
 * graphs alike (always with rewrites off); where a quantizer is off, the plain graph may be
 * fused across its place (LayerNorm, MatMul+Add, NCHWc Convs), a float32-rounding difference.
 * Every variant must come from the same prepared model (the same
 * builder, other settings); a variant's own corrected biases (`biases`) switch with their layer's
 * branches, and the float branch keeps the model's. Quantizers inside If branches switch inside their branch (their
 * parameters with `Where`).
 *
 * @throws UnsupportedError below opset 9 (no `Where`).
 */
export function buildSwitchableModel(
  prepared: PreparedModel,
  variants: readonly SwitchableVariant[],
  options: SwitchableModelOptions,
  groupOf: (spec: QuantizerSpec) => string = defaultSwitchGroup,
): SwitchableModel {
  const opset = prepared.model.opset;
  if (opset < 9)
    throw new UnsupportedError(`A switchable simulation needs opset 9 or later (Where); the model is at opset ${opset}.`, {
      hint: 'Convert the model first (convertToOpset), or analyze with plain simulations.',
    });
  const model = prepared.model.clone();
  const graph = model.proto.graph as GraphProto;
  // Quantizers inside If branches switch inside their branch (the switches are read from the
  // main graph by name); one sink per graph.
  const { unique, cloneOf, sinks, sinkOf } = sinksByScope(prepared, graph);
  const sink = sinkOf(undefined) as QuantizerSink;
  const viewNames = new Map<NodeProto, string>();
  for (const v of prepared.graph.nodes) {
    const c = cloneOf.get(v.proto);
    if (c) viewNames.set(c, v.name);
  }

  // Quantizers in plan order (the first variant's, then any the others add), grouped.
  const specs = new Map<string, QuantizerSpec>();
  for (const v of variants) for (const q of v.plan.quantizers) if (!specs.has(q.id)) specs.set(q.id, q);
  const forms = new Map<string, (QuantizerForm | undefined)[]>();
  const groupIndex = new Map<string, number>();
  const groups: { name: string; unit: string; kind: 'params' | 'activations'; quantizers: string[] }[] = [];
  for (const [id, spec] of specs) {
    const perVariant = variants.map((v) => {
      const q = v.plan.get(id);
      const enc = q?.enabled ? v.encodings.get(id) : undefined;
      if (!enc) return undefined;
      const form = chooseForm(enc, opset, options.qdqTypes);
      return form.kind === 'identity' ? undefined : form;
    });
    if (perVariant.every((f) => f === undefined)) continue;
    forms.set(id, perVariant);
    const name = groupOf(spec);
    let g = groupIndex.get(name);
    if (g === undefined) {
      g = groups.length;
      groupIndex.set(name, g);
      groups.push({ name, unit: quantizerUnit(spec), kind: spec.kind === 'param' ? 'params' : 'activations', quantizers: [] });
    }
    groups[g]?.quantizers.push(id);
  }

  const switchInputs = variants.map((v) => unique(`quantsim_switch_${v.name.replace(/[^A-Za-z0-9_]/g, '_')}`));
  // switchOf[g][v]: a scalar bool tensor, gathered from the variant's vector.
  const switchOf: string[][] = groups.map(() => []);
  for (const [g] of groups.entries()) {
    const index = makeTensor(unique(`quantsim_switch_index_${g}`), 'int64', [], [g]);
    sink.initializers.push(index);
    for (const [v, input] of switchInputs.entries()) {
      const out = unique(`${input}__${g}`);
      sink.nodes.push(makeNode('Gather', [input, index.name], [out], { axis: 0 }));
      (switchOf[g] as string[])[v] = out;
    }
  }

  /** Chains `Where(switch_v, quantized_v, …, float)` into `output`; quantized paths from `build`. */
  const select = (
    id: string,
    floatName: string,
    output: string,
    build: (enc: Encoding, form: QuantizerForm) => string,
    target: QuantizerSink = sink,
  ) => {
    const spec = specs.get(id) as QuantizerSpec;
    const g = groupIndex.get(groupOf(spec)) as number;
    const perVariant = forms.get(id) ?? [];
    const paths: (string | undefined)[] = [];
    const built = new Map<string, string>();
    for (const [v, form] of perVariant.entries()) {
      if (!form) continue;
      const enc = variants[v]?.encodings.get(id) as Encoding;
      // Variants that agree on this quantizer share its nodes.
      const key = JSON.stringify([enc, form]);
      let path = built.get(key);
      if (!path) {
        path = build(enc, form);
        built.set(key, path);
      }
      paths[v] = path;
    }
    const chosen = [...paths.entries()].filter((e): e is [number, string] => e[1] !== undefined);
    let current = floatName;
    for (const [k, [v, path]] of [...chosen.entries()].reverse()) {
      const out = k === 0 ? output : unique(`${output}__select_${v}`);
      target.nodes.push(makeNode('Where', [switchOf[g]?.[v] as string, path, current], [out]));
      current = out;
    }
  };

  /** The switch of group `g` that is on when any of `vs` (variants sharing one branch) is chosen: their `Or`. */
  const anyOf = (g: number, vs: readonly number[]): string => {
    let cond = switchOf[g]?.[vs[0] as number] as string;
    for (const v of vs.slice(1)) {
      const out = unique(`quantsim_switch_or_${g}`);
      sink.nodes.push(makeNode('Or', [cond, switchOf[g]?.[v] as string], [out]));
      cond = out;
    }
    return cond;
  };

  /**
   * Switches an activation (or a layer input) with a chain of `If` nodes: the branch of the
   * selected variant runs its quantizer (written by `build` into the branch's own nodes), the
   * last else branch passes the float value on. Only the chosen path runs, where `Where` would
   * compute every variant's quantizer and then copy one (on the PaddleOCR recognizer `Where`
   * took half of the switchable model's kernel time). Variants with the same encoding share a
   * branch.
   */
  const selectByIf = (
    id: string,
    floatName: string,
    output: string,
    build: (target: QuantizerSink, enc: Encoding, form: QuantizerForm) => string,
    target: QuantizerSink = sink,
  ) => {
    const spec = specs.get(id) as QuantizerSpec;
    const g = groupIndex.get(groupOf(spec)) as number;
    const branches = new Map<string, { variants: number[]; enc: Encoding; form: QuantizerForm }>();
    for (const [v, form] of (forms.get(id) ?? []).entries()) {
      if (!form) continue;
      const enc = variants[v]?.encodings.get(id) as Encoding;
      const key = JSON.stringify([enc, form]);
      const b = branches.get(key);
      if (b) b.variants.push(v);
      else branches.set(key, { variants: [v], enc, form });
    }
    const list = [...branches.values()];
    if (list.length === 0) {
      target.nodes.push(makeNode('Identity', [floatName], [output]));
      return;
    }
    const subgraph = (name: string, nodes: NodeProto[], initializers: TensorProto[], out: string): GraphProto =>
      create(GraphProtoSchema, {
        name: unique(name),
        node: nodes,
        initializer: initializers,
        output: [makeValueInfo(out, 'float32')],
      });
    const branchOf = (k: number): GraphProto => {
      const b = list[k] as (typeof list)[number];
      const inner: QuantizerSink = { opset, unique, nodes: [], initializers: [], usesMicrosoft: false };
      const out = build(inner, b.enc, b.form);
      if (inner.usesMicrosoft) sink.usesMicrosoft = true;
      return subgraph(`${output}__branch`, inner.nodes, inner.initializers, out);
    };
    const conditions = list.map((b) => anyOf(g, b.variants));
    const chain = (k: number, out: string): NodeProto => {
      let otherwise: GraphProto;
      if (k + 1 < list.length) {
        const next = unique(`${output}__chain`);
        otherwise = subgraph(`${output}__chain`, [chain(k + 1, next)], [], next);
      } else {
        const passed = unique(`${output}__float`);
        otherwise = subgraph(`${output}__float`, [makeNode('Identity', [floatName], [passed])], [], passed);
      }
      return makeNode('If', [conditions[k] as string], [out], { then_branch: branchOf(k), else_branch: otherwise });
    };
    target.nodes.push(chain(0, output));
  };

  // Parameters of a layer that is their only reader switch the whole layer with If: each branch
  // holds the layer with its weights as constants, so that ONNX Runtime runs the same kernels
  // (pre-packed, NCHWc) as for the plain simulated model. Other parameters go through Where.
  const byLayer = new Map<NodeProto, QuantizerSpec[]>();
  const viaWhere: QuantizerSpec[] = [];
  for (const id of forms.keys()) {
    const spec = specs.get(id) as QuantizerSpec;
    if (spec.kind !== 'param') continue;
    const consumers = prepared.graph.tensor(spec.tensor)?.consumers ?? [];
    const n = consumers.length === 1 ? cloneOf.get((consumers[0] as { node: { proto: NodeProto } }).node.proto) : undefined;
    if (!n || n.output.some((o) => o === '')) viaWhere.push(spec);
    else byLayer.set(n, [...(byLayer.get(n) ?? []), spec]);
  }
  for (const [n, list] of byLayer)
    if (new Set(list.map((q) => groupOf(q))).size > 1) {
      viaWhere.push(...list);
      byLayer.delete(n);
    }
  // A variant's own biases switch with their layer's branches: each must belong to one.
  const switchedInputs = new Set([...byLayer.keys()].flatMap((n) => n.input));
  for (const v of variants)
    for (const t of v.biases?.keys() ?? [])
      if (!switchedInputs.has(t))
        throw new UnsupportedError(
          `Variant ${v.name} has its own corrected bias ${t}, whose layer does not switch as a whole (its weights are shared or in several groups).`,
          { hint: 'Make the variants without bias correction (.biasCorrection(false)).' },
        );
  for (const id of forms.keys()) {
    const spec = specs.get(id) as QuantizerSpec;
    if (spec.kind === 'activation') switchActivation(spec);
    else if (spec.kind === 'input') switchInput(spec);
  }
  for (const spec of viaWhere) switchParam(spec);
  const replaced = new Map<NodeProto, NodeProto>();
  for (const [n, list] of byLayer) replaced.set(n, switchLayer(n, list));
  graph.node = graph.node.map((n) => replaced.get(n) ?? n);

  function switchActivation(spec: QuantizerSpec): void {
    const t = viewOfScope(prepared.graph, spec.scope)?.tensor(spec.tensor);
    const target = sinkOf(spec.scope);
    if (!t || !target) return;
    const producer = t.producer;
    const quantizedPath = (input: string) => (target: QuantizerSink, enc: Encoding, form: QuantizerForm) => {
      const out = unique(`${spec.tensor}__quantized`);
      emitQuantizer(target, input, out, enc, form, spec.id);
      return out;
    };
    if (producer) {
      const p = cloneOf.get(producer.proto);
      if (!p) return;
      const floatName = unique(`${spec.tensor}__float`);
      p.output = p.output.map((o) => (o === spec.tensor ? floatName : o));
      selectByIf(spec.id, floatName, spec.tensor, quantizedPath(floatName), target);
      return;
    }
    if (spec.scope !== undefined) return;
    // A graph input keeps its name: its readers switch to the selected copy.
    const switched = unique(`${spec.tensor}__switched`);
    for (const c of t.consumers) {
      const n = cloneOf.get(c.node.proto);
      if (n) n.input[c.index] = switched;
    }
    // If branches read graph inputs by name from the outer scope: they switch too.
    const renamed = new Map([[spec.tensor, switched]]);
    for (const n of graph.node) for (const a of n.attribute) for (const b of subgraphsOf(a)) renameReads(b, renamed);
    selectByIf(spec.id, spec.tensor, switched, quantizedPath(spec.tensor));
  }

  function switchInput(spec: QuantizerSpec): void {
    const layer = spec.layer ? prepared.graph.node(spec.layer) : undefined;
    const n = layer ? cloneOf.get(layer.proto) : undefined;
    if (!n || spec.inputIndex === undefined) return;
    const arriving = n.input[spec.inputIndex] as string;
    const switched = unique(`${spec.tensor}__input_${spec.inputIndex}_${layer?.index}`);
    selectByIf(spec.id, arriving, switched, (target, enc, form) => {
      const out = unique(`${switched}__quantized`);
      emitQuantizer(target, arriving, out, enc, form, spec.id);
      return out;
    });
    n.input[spec.inputIndex] = switched;
  }

  function switchParam(spec: QuantizerSpec): void {
    const target = sinkOf(spec.scope);
    const tensor = model.constantTensor(spec.tensor, scopeProto(prepared.graph, graph, cloneOf, spec.scope));
    if (!tensor || !target) return;
    const values = tensorToFloat32(tensor, (tp) => model.externalBytes(tp) ?? new Uint8Array());
    const dims = tensor.dims.map(Number);
    const switched = unique(`${spec.tensor}__switched`);
    for (const c of viewOfScope(prepared.graph, spec.scope)?.tensor(spec.tensor)?.consumers ?? []) {
      const n = cloneOf.get(c.node.proto);
      if (n) n.input[c.index] = switched;
    }
    select(
      spec.id,
      spec.tensor,
      switched,
      (enc, form) => {
        const t = makeTensor(unique(`${spec.tensor}__quantized`), 'float32', dims, simulatedParamValues(values, dims, enc, form));
        target.initializers.push(t);
        return t.name;
      },
      target,
    );
  }

  function switchLayer(layer: NodeProto, params: readonly QuantizerSpec[]): NodeProto {
    const g = groupIndex.get(groupOf(params[0] as QuantizerSpec)) as number;
    const originalOutputs = (prepared.graph.node(nodeNameOf(layer))?.outputs ?? []) as readonly string[];
    // Inputs some variant has its own corrected values for (biases), with the model's values.
    const corrected = layer.input
      .filter((i) => variants.some((v) => v.biases?.has(i)))
      .map((i) => ({ tensor: i, dims: model.constantTensor(i)?.dims.map(Number) ?? [], values: model.constantValues(i) }));
    const biasOf = (v: number | undefined, t: string) =>
      (v === undefined ? undefined : variants[v]?.biases?.get(t)) ??
      (corrected.find((c) => c.tensor === t)?.values as Float32Array);
    const values = params.map((spec) => {
      const tensor = model.constantTensor(spec.tensor);
      return {
        spec,
        values: tensor ? tensorToFloat32(tensor, (tp) => model.externalBytes(tp) ?? new Uint8Array()) : new Float32Array(),
        dims: tensor?.dims.map(Number) ?? [],
      };
    });
    // Branches by distinct parameter values: variant → key; the float branch has key ''.
    const keyOf = (v: number) =>
      JSON.stringify([
        ...values.map(({ spec }) => [variants[v]?.encodings.get(spec.id), forms.get(spec.id)?.[v]]),
        // A variant with its own biases here gets its own branch.
        ...(corrected.some((c) => variants[v]?.biases?.has(c.tensor)) ? [v] : []),
      ]);
    const floatKey = JSON.stringify(values.map(() => [undefined, undefined]));
    const branches = new Map<string, number[]>();
    for (let v = 0; v < variants.length; v++) {
      const key = keyOf(v);
      if (key === floatKey) continue;
      branches.set(key, [...(branches.get(key) ?? []), v]);
    }
    const branchGraph = (v: number | undefined): GraphProto => {
      const copy = clone(NodeProtoSchema, layer);
      const initializers: TensorProto[] = [];
      for (const { spec, values: w, dims } of values) {
        const form = v === undefined ? undefined : forms.get(spec.id)?.[v];
        const enc = v === undefined ? undefined : variants[v]?.encodings.get(spec.id);
        const t = makeTensor(
          unique(`${spec.tensor}__branch`),
          'float32',
          dims,
          form && enc ? simulatedParamValues(w, dims, enc, form) : w,
        );
        initializers.push(t);
        copy.input = copy.input.map((i) => (i === spec.tensor ? t.name : i));
      }
      for (const c of corrected) {
        const t = makeTensor(unique(`${c.tensor}__branch`), 'float32', c.dims, biasOf(v, c.tensor));
        initializers.push(t);
        copy.input = copy.input.map((i) => (i === c.tensor ? t.name : i));
      }
      copy.output = layer.output.map((o) => unique(`${o}__branch`));
      return create(GraphProtoSchema, {
        name: unique(`${nodeNameOf(layer)}__branch`),
        node: [copy],
        initializer: initializers,
        output: copy.output.map((o, i) => makeValueInfo(o, prepared.graph.tensor(originalOutputs[i] ?? '')?.dtype ?? 'float32')),
      });
    };
    const conditions = [...branches.values()].map((vs) => ({ cond: anyOf(g, vs), variant: vs[0] as number }));
    const chain = (k: number, outputs: readonly string[]): NodeProto => {
      const c = conditions[k] as { cond: string; variant: number };
      const inner = k + 1 < conditions.length ? chainGraph(k + 1) : branchGraph(undefined);
      return makeNode(
        'If',
        [c.cond],
        outputs,
        { then_branch: branchGraph(c.variant), else_branch: inner },
        { name: unique(`${nodeNameOf(layer)}__switch_${k}`) },
      );
    };
    const chainGraph = (k: number): GraphProto => {
      const outputs = layer.output.map((o) => unique(`${o}__chain`));
      return create(GraphProtoSchema, {
        name: unique(`${nodeNameOf(layer)}__chain`),
        node: [chain(k, outputs)],
        output: outputs.map((o, i) => makeValueInfo(o, prepared.graph.tensor(originalOutputs[i] ?? '')?.dtype ?? 'float32')),
      });
    };
    return conditions.length === 0 ? layer : chain(0, layer.output);
  }

  /** The stable name of a cloned node (its original's view name). */
  function nodeNameOf(n: NodeProto): string {
    return viewNames.get(n) ?? n.name;
  }

  for (const [g, s] of sinks) {
    if (g === graph) continue;
    g.node = [...g.node, ...s.nodes];
    g.initializer = [...g.initializer, ...s.initializers];
    if (s.usesMicrosoft) sink.usesMicrosoft = true;
    // ONNX Runtime requires If branches in topological order.
    sortNodes(g);
  }
  graph.node = [...graph.node, ...sink.nodes];
  graph.initializer = [...graph.initializer, ...sink.initializers];
  graph.input = [...graph.input, ...switchInputs.map((name) => makeValueInfo(name, 'bool', [groups.length]))];
  if (sink.usesMicrosoft && !model.proto.opsetImport.some((o) => o.domain === 'com.microsoft'))
    model.proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
  return { model, groups, variants: variants.map((v) => v.name), switchInputs, forms };
}
