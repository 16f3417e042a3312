import { type Layer, loadModel, type Model } from '@quantsim/core';
import { resolveModelArgument } from '../bundled-models.js';
import { formatTable } from '../format.js';

/** Options of `quantsim inspect`. */
export interface InspectOptions {
  /** Print every layer, not only the summary (default true). */
  readonly layers?: boolean;
  readonly json?: boolean;
}

/** Describes a model: inputs, outputs, op types, layers and their parameters. */
export async function inspectCommand(modelArg: string, options: InspectOptions, print: (line: string) => void): Promise<void> {
  const model = await loadModel(resolveModelArgument(modelArg));
  if (options.json) {
    print(JSON.stringify(describeModel(model), null, 2));
    return;
  }
  const d = describeModel(model);
  print(`Model     ${d.source}`);
  print(`Format    IR ${d.irVersion}, opsets ${d.opsets.join(', ')}${d.producer ? `, produced by ${d.producer}` : ''}`);
  for (const i of d.inputs) print(`Input     ${i.name}: ${i.dtype ?? '?'} [${i.shape?.join(', ') ?? '?'}]`);
  for (const o of d.outputs) print(`Output    ${o.name}: ${o.dtype ?? '?'} [${o.shape?.join(', ') ?? '?'}]`);
  print(
    `Layers    ${d.layerCount} (${Object.entries(d.opTypes)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')})`,
  );
  print(`Params    ${d.paramTensors} tensors, ${d.paramValues.toLocaleString('en-US')} values`);
  if (d.subgraphs.length > 0)
    print(`Subgraphs ${d.subgraphs.length}: ${d.subgraphs.map((s) => `${s.path} (${s.nodes} nodes)`).join(', ')}`);
  if (options.layers !== false) {
    print('');
    print(
      formatTable(
        ['layer', 'op', 'inputs', 'outputs', 'params'],
        model.layers().map((l) => [l.name, l.opType, activationInputs(l).join(', '), l.outputs.join(', '), paramSummary(l)]),
      ),
    );
  }
}

function activationInputs(layer: Layer): string[] {
  const params = new Set(layer.params.map((p) => p.tensor));
  return layer.inputs.filter((i) => i !== '' && !params.has(i));
}

function paramSummary(layer: Layer): string {
  return layer.params.map((p) => `${p.role} ${p.tensor}${p.shape ? ` [${p.shape.join('x')}]` : ''}`).join('; ');
}

/** The summary that `inspect` prints, as data. */
export function describeModel(model: Model) {
  const g = model.graph;
  const opTypes: Record<string, number> = {};
  for (const l of model.layers()) opTypes[l.opType] = (opTypes[l.opType] ?? 0) + 1;
  const params = new Map<string, number>();
  for (const l of model.layers())
    for (const p of l.params)
      params.set(
        p.tensor,
        (p.shape ?? []).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 0), 1),
      );
  const io = (name: string) => ({ name, dtype: g.tensor(name)?.dtype, shape: g.tensor(name)?.shape });
  return {
    source: model.origin.source,
    irVersion: Number(model.proto.irVersion),
    opsets: model.proto.opsetImport.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`),
    producer: [model.proto.producerName, model.proto.producerVersion].filter(Boolean).join(' '),
    inputs: g.inputs.map(io),
    outputs: g.outputs.map(io),
    layerCount: model.layers().length,
    opTypes,
    paramTensors: params.size,
    paramValues: [...params.values()].reduce((a, b) => a + b, 0),
    subgraphs: g.subgraphs.map((s) => ({ path: s.graph.path, nodes: s.graph.nodes.length })),
  };
}
