import { create } from '@bufbuild/protobuf';
import { type GraphProto, type NodeProto, OperatorSetIdProtoSchema } from 'onnx-buf';
import type { QdqElementType } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import { UnsupportedError } from '../errors/quantsim-error.js';
import type { Model } from '../model/model.js';
import { makeTensor, makeValueInfo } from '../onnx/model-builder.js';
import { tensorToFloat32 } from '../onnx/tensor-values.js';
import type { QuantPlan } from '../quant/plan.js';
import type { PreparedModel } from '../quant/prepared-model.js';
import type { QuantizerSpec } from '../quant/spec.js';
import { chooseForm, type QuantizerForm } from './qdq-form.js';
import { emitQuantizer, node, type QuantizerSink, simulatedParamValues } from './simulated-model.js';

/** One setting of every quantizer: a plan and its encodings (for example all at 8 bits, or all at 16). */
export interface SwitchableVariant {
  /** For messages and reports, e.g. `W8A8`. */
  readonly name: string;
  readonly plan: QuantPlan;
  readonly encodings: EncodingMap;
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
 * Builds the simulated model once with every quantizer group switchable at run time. Each
 * quantizer gets its quantized path for every variant that quantizes it (the same nodes as
 * {@link buildSimulatedModel} emits, or the same fake-quantized weights) and a chain of `Where`
 * nodes that picks one of them or the float value, driven by one boolean vector input per
 * variant. `Where` selects without arithmetic, so a setting of the switches computes exactly
 * what a plain simulated model of the same plan computes. Every variant must come from the same
 * prepared model (the same builder, other settings).
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
  const names = new Set<string>([...prepared.graph.tensors.keys()]);
  const unique = (base: string) => {
    let n = base;
    for (let k = 2; names.has(n); k++) n = `${base}_${k}`;
    names.add(n);
    return n;
  };
  const original = prepared.model.proto.graph?.node ?? [];
  const cloneOf = new Map<NodeProto, NodeProto>(original.map((n, i) => [n, graph.node[i] as NodeProto]));
  const sink: QuantizerSink = { opset, unique, nodes: [], initializers: [], usesMicrosoft: false };

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
      sink.nodes.push(node('Gather', [input, index.name], [out], { axis: 0 }));
      (switchOf[g] as string[])[v] = out;
    }
  }

  /** Chains `Where(switch_v, quantized_v, …, float)` into `output`; quantized paths from `build`. */
  const select = (id: string, floatName: string, output: string, build: (enc: Encoding, form: QuantizerForm) => string) => {
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
      sink.nodes.push(node('Where', [switchOf[g]?.[v] as string, path, current], [out]));
      current = out;
    }
  };

  for (const id of forms.keys()) {
    const spec = specs.get(id) as QuantizerSpec;
    if (spec.kind === 'param') switchParam(spec);
    else if (spec.kind === 'activation') switchActivation(spec);
    else switchInput(spec);
  }

  function switchActivation(spec: QuantizerSpec): void {
    const t = prepared.graph.tensor(spec.tensor);
    const producer = t?.producer;
    const quantizedPath = (input: string) => (enc: Encoding, form: QuantizerForm) => {
      const out = unique(`${spec.tensor}__quantized`);
      emitQuantizer(sink, input, out, enc, form, spec.id);
      return out;
    };
    if (producer) {
      const p = cloneOf.get(producer.proto);
      if (!p) return;
      const floatName = unique(`${spec.tensor}__float`);
      p.output = p.output.map((o) => (o === spec.tensor ? floatName : o));
      select(spec.id, floatName, spec.tensor, quantizedPath(floatName));
      return;
    }
    // A graph input keeps its name: its readers switch to the selected copy.
    const switched = unique(`${spec.tensor}__switched`);
    for (const c of t?.consumers ?? []) {
      const n = cloneOf.get(c.node.proto);
      if (n) n.input[c.index] = switched;
    }
    select(spec.id, spec.tensor, switched, quantizedPath(spec.tensor));
  }

  function switchInput(spec: QuantizerSpec): void {
    const layer = spec.layer ? prepared.graph.node(spec.layer) : undefined;
    const n = layer ? cloneOf.get(layer.proto) : undefined;
    if (!n || spec.inputIndex === undefined) return;
    const arriving = n.input[spec.inputIndex] as string;
    const switched = unique(`${spec.tensor}__input_${spec.inputIndex}_${layer?.index}`);
    select(spec.id, arriving, switched, (enc, form) => {
      const out = unique(`${switched}__quantized`);
      emitQuantizer(sink, arriving, out, enc, form, spec.id);
      return out;
    });
    n.input[spec.inputIndex] = switched;
  }

  function switchParam(spec: QuantizerSpec): void {
    const tensor = model.constantTensor(spec.tensor);
    if (!tensor) return;
    const values = tensorToFloat32(tensor, (tp) => model.externalBytes(tp) ?? new Uint8Array());
    const dims = tensor.dims.map(Number);
    const switched = unique(`${spec.tensor}__switched`);
    for (const c of prepared.graph.tensor(spec.tensor)?.consumers ?? []) {
      const n = cloneOf.get(c.node.proto);
      if (n) n.input[c.index] = switched;
    }
    select(spec.id, spec.tensor, switched, (enc, form) => {
      const t = makeTensor(unique(`${spec.tensor}__quantized`), 'float32', dims, simulatedParamValues(values, dims, enc, form));
      sink.initializers.push(t);
      return t.name;
    });
  }

  graph.node = [...graph.node, ...sink.nodes];
  graph.initializer = [...graph.initializer, ...sink.initializers];
  graph.input = [...graph.input, ...switchInputs.map((name) => makeValueInfo(name, 'bool', [groups.length]))];
  if (sink.usesMicrosoft && !model.proto.opsetImport.some((o) => o.domain === 'com.microsoft'))
    model.proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
  return { model, groups, variants: variants.map((v) => v.name), switchInputs, forms };
}
