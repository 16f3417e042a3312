import type { SelectorReport } from '../contracts/rule.js';
import type { GraphView, Layer } from '../graph/graph-view.js';
import { layersWithBranches, tensorNamesWithBranches } from '../graph/scopes.js';
import type { QuantConfig } from './config-file.js';
import type { QuantDefaults } from './defaults.js';
import type { OverrideData, OverrideFields } from './overrides.js';
import type { Placement, QuantizerSlot } from './placement.js';
import { QuantPlan } from './plan.js';
import { compilePattern, type LayerPredicate, patternText, type SelectorData } from './selector.js';
import { QUANTIZER_FIELDS, type QuantizerField, type QuantizerSpec } from './spec.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Row = Mutable<Omit<QuantizerSpec, 'provenance'>> & {
  provenance: Partial<Record<QuantizerField, string>>;
  slot: QuantizerSlot;
};

/** Everything plan resolution needs. */
export interface ResolveInput {
  readonly graph: GraphView;
  readonly placement: Placement;
  readonly defaults: QuantDefaults;
  readonly config: QuantConfig | undefined;
  readonly overrides: readonly OverrideData[];
  readonly functions: ReadonlyMap<number, LayerPredicate>;
  /** Layers removed by BatchNorm folding, by name → the layer that absorbed them. */
  readonly foldedInto: ReadonlyMap<string, string>;
}

/**
 * Resolves the plan: every slot starts from the defaults, then the config file, then the
 * builder's overrides in the order they were written; each field records the call that set it.
 */
export function resolvePlan(input: ResolveInput): { plan: QuantPlan; selectors: SelectorReport[] } {
  const { graph, placement, defaults, config } = input;
  const rows: Row[] = placement.slots.map((slot) => fromDefaults(slot, defaults));
  const inputRows = new Map<string, Row>();
  if (config) applyConfig(rows, config, placement, graph, inputRows, defaults);

  const layerByName = new Map<string, Layer>(layersWithBranches(graph).map((l) => [l.name, l]));
  const selectors: SelectorReport[] = [];
  const reported = new Set<string>();
  for (const o of input.overrides) {
    const matchers = o.selector.patterns.map((p) => compilePattern(p, input.functions, (n) => layerByName.get(n)));
    const test = (s: string) => matchers.some((m) => m(s));
    const matchedLayers = matchLayers(o.selector, graph, test, input.foldedInto);
    if (!reported.has(o.selector.call)) {
      reported.add(o.selector.call);
      selectors.push(report(o.selector, graph, matchedLayers, test, input.foldedInto));
    }
    if (o.target === 'inputs' || o.target === 'all') {
      for (const layer of matchedLayers) {
        if (o.target === 'all' && !o.fields.enabled) continue;
        for (const c of placement.inputCandidates.get(layer) ?? []) {
          const id = `input:${layer}:${c.index}`;
          if (!inputRows.has(id)) inputRows.set(id, newInputRow(id, layer, c, graph, defaults, o.call));
        }
      }
    }
    const all = [...rows, ...inputRows.values()];
    for (const row of all) {
      if (!targets(o, row)) continue;
      if (!selects(o.selector, row, matchedLayers, test)) continue;
      apply(row, o.fields, o.call);
    }
  }
  const quantizers = [...rows, ...inputRows.values()].map(
    ({ slot: _slot, ...spec }) => Object.freeze({ ...spec, provenance: Object.freeze(spec.provenance) }) as QuantizerSpec,
  );
  const foldedSkips = [...input.foldedInto].map(([bn, layer]) => ({
    tensor: bn,
    reason: `BatchNormalization folded into ${layer}`,
  }));
  return { plan: new QuantPlan(quantizers, [...foldedSkips, ...placement.skipped]), selectors };
}

function fromDefaults(slot: QuantizerSlot, d: QuantDefaults): Row {
  const isParam = slot.kind === 'param';
  const role = slot.paramRole;
  const enabledParam = role === 'bias' ? d.quantizeBias : role !== 'mean' && role !== 'variance';
  const provenance: Partial<Record<QuantizerField, string>> = {};
  for (const f of QUANTIZER_FIELDS) provenance[f] = 'defaults';
  return {
    id: slot.id,
    tensor: slot.tensor,
    layer: slot.layer,
    kind: slot.kind,
    ...(role ? { paramRole: role } : {}),
    ...(slot.inputIndex !== undefined && slot.kind !== 'param' ? { inputIndex: slot.inputIndex } : {}),
    ...(slot.supergroup ? { supergroup: slot.supergroup } : {}),
    ...(slot.scope !== undefined ? { scope: slot.scope } : {}),
    bitwidth: isParam ? d.params : d.activations,
    dtype: isParam ? d.paramDtype : d.activationDtype,
    symmetric: isParam ? d.symmetricParams : d.symmetricActivations,
    strictSymmetric: d.strictSymmetric,
    unsignedSymmetric: d.unsignedSymmetric,
    scheme: isParam ? (d.paramScheme ?? d.scheme) : d.scheme,
    schemeOptions: {},
    perChannelAxis: isParam && d.perChannel && role !== 'bias' ? slot.channelAxis : undefined,
    enabled: isParam ? enabledParam : true,
    provenance,
    slot,
  };
}

function newInputRow(
  id: string,
  layer: string,
  c: { index: number; tensor: string },
  graph: GraphView,
  d: QuantDefaults,
  call: string,
): Row {
  const slot: QuantizerSlot = {
    id,
    tensor: c.tensor,
    kind: 'input',
    layer,
    opType: graph.node(layer)?.opType,
    supergroup: undefined,
    inputIndex: c.index,
    channelAxis: undefined,
    isGraphInput: false,
    isGraphOutput: false,
  };
  const row = fromDefaults(slot, d);
  row.provenance.enabled = call;
  return row;
}

function set<K extends QuantizerField>(row: Row, field: K, value: Row[K], call: string): void {
  (row as Record<string, unknown>)[field] = value;
  row.provenance[field] = call;
}

function apply(row: Row, f: OverrideFields, call: string): void {
  if (f.bitwidth !== undefined) set(row, 'bitwidth', f.bitwidth, call);
  if (f.dtype !== undefined) set(row, 'dtype', f.dtype, call);
  if (f.symmetric !== undefined) set(row, 'symmetric', f.symmetric, call);
  if (f.strictSymmetric !== undefined) set(row, 'strictSymmetric', f.strictSymmetric, call);
  if (f.unsignedSymmetric !== undefined) set(row, 'unsignedSymmetric', f.unsignedSymmetric, call);
  if (f.scheme !== undefined) set(row, 'scheme', f.scheme, call);
  if (f.schemeOptions !== undefined) set(row, 'schemeOptions', f.schemeOptions, call);
  if (f.perChannelAxis !== undefined && row.kind === 'param')
    set(
      row,
      'perChannelAxis',
      f.perChannelAxis === 'natural' ? row.slot.channelAxis : f.perChannelAxis === null ? undefined : f.perChannelAxis,
      call,
    );
  if (f.enabled !== undefined) set(row, 'enabled', f.enabled, call);
}

function targets(o: OverrideData, row: Row): boolean {
  if (o.target === 'all') return true;
  if (o.target === 'activations') return row.kind === 'activation';
  if (o.target === 'params') return row.kind === 'param';
  return row.kind === 'input';
}

function matchLayers(
  selector: SelectorData,
  graph: GraphView,
  test: (s: string) => boolean,
  foldedInto: ReadonlyMap<string, string>,
): Set<string> {
  const out = new Set<string>();
  const layers = layersWithBranches(graph);
  if (selector.kind === 'all') for (const l of layers) out.add(l.name);
  else if (selector.kind === 'layers') {
    for (const l of layers) if (test(l.name)) out.add(l.name);
    // A folded BatchNormalization's name selects the layer that absorbed it.
    for (const [bn, layer] of foldedInto) if (test(bn)) out.add(layer);
  } else if (selector.kind === 'ops') for (const l of layers) if (test(l.opType)) out.add(l.name);
  return out;
}

function selects(selector: SelectorData, row: Row, layers: ReadonlySet<string>, test: (s: string) => boolean): boolean {
  if (selector.kind === 'all') return true;
  if (selector.kind === 'tensors') return test(row.tensor);
  if (row.layer !== undefined && layers.has(row.layer)) return true;
  return row.supergroup?.some((l) => layers.has(l)) ?? false;
}

function report(
  selector: SelectorData,
  graph: GraphView,
  layers: ReadonlySet<string>,
  test: (s: string) => boolean,
  foldedInto: ReadonlyMap<string, string>,
): SelectorReport {
  if (selector.kind === 'tensors') {
    const names = tensorNamesWithBranches(graph);
    return { call: selector.call, kind: 'tensors', matched: names.filter(test), candidates: names };
  }
  if (selector.kind === 'ops') {
    const ops = [...new Set(layersWithBranches(graph).map((l) => l.opType))];
    return { call: selector.call, kind: 'ops', matched: ops.filter(test), candidates: ops };
  }
  return {
    call: selector.call,
    kind: selector.kind,
    matched: [...layers],
    candidates: [...layersWithBranches(graph).map((l) => l.name), ...foldedInto.keys()],
  };
}

function applyConfig(
  rows: Row[],
  config: QuantConfig,
  placement: Placement,
  graph: GraphView,
  inputRows: Map<string, Row>,
  defaults: QuantDefaults,
): void {
  const call = `config ${config.source}`;
  const d = config.defaults;
  for (const row of rows) {
    const op = row.slot.opType ? config.opTypes[row.slot.opType] : undefined;
    if (row.kind === 'param') {
      if (d.paramBitwidth !== undefined) set(row, 'bitwidth', d.paramBitwidth, call);
      if (d.params.quantized !== undefined && row.paramRole !== 'bias') set(row, 'enabled', d.params.quantized, call);
      if (d.params.symmetric !== undefined) set(row, 'symmetric', d.params.symmetric, call);
      const role = row.paramRole ? config.params[row.paramRole] : undefined;
      if (role?.quantized !== undefined) set(row, 'enabled', role.quantized, call);
      if (role?.symmetric !== undefined) set(row, 'symmetric', role.symmetric, call);
      if (d.perChannel !== undefined && row.paramRole !== 'bias')
        set(row, 'perChannelAxis', d.perChannel ? row.slot.channelAxis : undefined, call);
      if (op?.paramBitwidth !== undefined) set(row, 'bitwidth', op.paramBitwidth, call);
      if (op?.perChannel !== undefined && row.paramRole !== 'bias')
        set(row, 'perChannelAxis', op.perChannel ? row.slot.channelAxis : undefined, call);
      const opRole = row.paramRole ? op?.params?.[row.paramRole] : undefined;
      if (opRole?.quantized !== undefined) set(row, 'enabled', opRole.quantized, call);
      if (opRole?.symmetric !== undefined) set(row, 'symmetric', opRole.symmetric, call);
    } else {
      if (d.activationBitwidth !== undefined) set(row, 'bitwidth', d.activationBitwidth, call);
      if (d.ops.symmetric !== undefined) set(row, 'symmetric', d.ops.symmetric, call);
      if (d.ops.outputQuantized !== undefined && !row.slot.isGraphInput) set(row, 'enabled', d.ops.outputQuantized, call);
      if (op?.outputQuantized !== undefined) set(row, 'enabled', op.outputQuantized, call);
      if (op?.symmetric !== undefined) set(row, 'symmetric', op.symmetric, call);
      if (op?.activationBitwidth !== undefined) set(row, 'bitwidth', op.activationBitwidth, call);
      if (row.slot.isGraphInput && config.modelInputQuantized !== undefined)
        set(row, 'enabled', config.modelInputQuantized, call);
      if (row.slot.isGraphOutput && config.modelOutputQuantized !== undefined)
        set(row, 'enabled', config.modelOutputQuantized, call);
    }
    if (d.strictSymmetric !== undefined) set(row, 'strictSymmetric', d.strictSymmetric, call);
    if (d.unsignedSymmetric !== undefined) set(row, 'unsignedSymmetric', d.unsignedSymmetric, call);
  }
  // is_input_quantized: input quantizers on every activation input of matching ops.
  for (const layer of graph.layers) {
    const op = config.opTypes[layer.opType];
    const wanted = op?.inputQuantized ?? d.ops.inputQuantized;
    if (!wanted) continue;
    for (const c of placement.inputCandidates.get(layer.name) ?? []) {
      const id = `input:${layer.name}:${c.index}`;
      if (!inputRows.has(id)) inputRows.set(id, newInputRow(id, layer.name, c, graph, defaults, call));
    }
  }
  applyQuantizerSection(rows, config, placement, graph, inputRows, defaults, call);
}

/** The `quantizers` section: settings by quantizer id, after every AIMET section. */
function applyQuantizerSection(
  rows: Row[],
  config: QuantConfig,
  placement: Placement,
  graph: GraphView,
  inputRows: Map<string, Row>,
  defaults: QuantDefaults,
  call: string,
): void {
  if (!config.quantizers) return;
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const [id, o] of Object.entries(config.quantizers)) {
    let row = byId.get(id) ?? inputRows.get(id);
    const input = /^input:(.*):(\d+)$/.exec(id);
    if (!row && input) {
      const c = (placement.inputCandidates.get(input[1] as string) ?? []).find((x) => x.index === Number(input[2]));
      if (c) {
        row = newInputRow(id, input[1] as string, c, graph, defaults, call);
        inputRows.set(id, row);
      }
    }
    if (!row) continue;
    apply(
      row,
      {
        ...(o.bitwidth !== undefined ? { bitwidth: o.bitwidth } : {}),
        ...(o.dtype !== undefined ? { dtype: o.dtype } : {}),
        ...(o.symmetric !== undefined ? { symmetric: o.symmetric } : {}),
        ...(o.strictSymmetric !== undefined ? { strictSymmetric: o.strictSymmetric } : {}),
        ...(o.unsignedSymmetric !== undefined ? { unsignedSymmetric: o.unsignedSymmetric } : {}),
        ...(o.scheme !== undefined ? { scheme: o.scheme } : {}),
        ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
      },
      call,
    );
    if (o.perChannelAxis !== undefined && row.kind === 'param') set(row, 'perChannelAxis', o.perChannelAxis ?? undefined, call);
  }
}

/** Describes a selector for messages. */
export function selectorText(s: SelectorData): string {
  return s.kind === 'all' ? '.all()' : `.${s.kind}(${s.patterns.map(patternText).join(', ')})`;
}
