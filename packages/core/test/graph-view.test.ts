import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { loadModel, ModelBuilder } from '../src/index.js';

describe('graph view of the PaddleOCR detector', () => {
  it('lists its 62 Conv layers, each with a weight found through a Constant node', async () => {
    const model = await loadModel(REAL_MODELS.ocrDetector);
    const convs = model.layers().filter((l) => l.opType === 'Conv');
    expect(convs).toHaveLength(62);
    for (const conv of convs) {
      const weight = conv.params.find((p) => p.role === 'weight');
      expect(weight, conv.name).toBeDefined();
      expect(weight?.source).toBe('constant-node');
      expect(weight?.inputIndex).toBe(1);
      expect(weight?.shape).toHaveLength(4);
      expect(model.graph.tensor(weight?.tensor ?? '')?.role).toBe('param');
    }
    // Constant nodes are not layers; every layer has a unique, non-empty stable name.
    expect(model.layers().some((l) => l.opType === 'Constant')).toBe(false);
    const names = model.graph.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.length > 0)).toBe(true);
    expect(convs[0]?.name).toBe('p2o.Conv.0');
    // PaddleOCR's Constant nodes have no names: theirs derive from op type and output.
    const constant = model.graph.nodes.find((n) => n.opType === 'Constant');
    expect(constant?.protoName).toBe('');
    expect(constant?.name).toBe('Constant_batch_norm2d_0.b_0');
  });

  it('gives identical names across loads', async () => {
    const a = await loadModel(REAL_MODELS.ocrDetector);
    const b = await loadModel(REAL_MODELS.ocrDetector);
    expect(a.graph.nodes.map((n) => n.name)).toEqual(b.graph.nodes.map((n) => n.name));
  });

  it('orders nodes topologically and records producers and consumers', async () => {
    const model = await loadModel(REAL_MODELS.ocrRecognizer);
    const position = new Map(model.graph.nodes.map((n) => [n.name, n.index]));
    for (const node of model.graph.nodes) {
      for (const input of node.inputs) {
        const producer = model.graph.tensor(input)?.producer;
        if (producer) expect(position.get(producer.name)).toBeLessThan(node.index);
      }
      for (const out of node.outputs) expect(model.graph.tensor(out)?.producer?.name).toBe(node.name);
    }
    const x = model.graph.tensor('x');
    expect(x?.role).toBe('graph-input');
    expect(x?.shapeSource).toBe('graph-input');
    expect(x?.shape).toEqual(['p2o.DynamicDimension.0', 3, 48, 'p2o.DynamicDimension.1']);
    expect(model.graph.tensor(model.graph.outputs[0] ?? '')?.isGraphOutput).toBe(true);
  });

  it('tells shape tensors apart from float activations', async () => {
    const model = await loadModel(REAL_MODELS.ocrRecognizer);
    const shapes = model.graph.nodes.filter((n) => n.opType === 'Shape');
    expect(shapes.length).toBe(4);
    for (const s of shapes) expect(model.graph.tensor(s.outputs[0] ?? '')?.dtype).toBe('int64');
    const matmuls = model.layers().filter((l) => l.opType === 'MatMul');
    expect(matmuls.filter((m) => m.params.length === 1).length).toBeGreaterThan(0);
    for (const conv of model.layers().filter((l) => l.opType === 'Conv'))
      expect(model.graph.tensor(conv.outputs[0] ?? '')?.dtype).toBe('float32');
  });
});

describe('subgraphs', () => {
  it('finds and reports the If branches of Silero VAD', async () => {
    const model = await loadModel(REAL_MODELS.sileroV5);
    const ifNode = model.graph.nodes.find((n) => n.opType === 'If');
    expect(ifNode?.subgraphs.map((s) => s.attribute).sort()).toEqual(['else_branch', 'then_branch']);
    expect(model.graph.subgraphs.length).toBeGreaterThanOrEqual(2);
    const branch = model.graph.subgraphs[0]?.graph;
    expect(branch?.nodes.length).toBeGreaterThan(10);
    expect(branch?.nodes[0]?.name.startsWith(`${ifNode?.name}/`)).toBe(true);
    // Convolutions inside the branches have their weights found too.
    expect(branch?.layers.some((l) => l.opType === 'Conv' && l.params.some((p) => p.role === 'weight'))).toBe(true);
  });
});

describe('stable names', () => {
  it('keeps unique own names, derives the rest, and resolves clashes deterministically', () => {
    const b = new ModelBuilder();
    const x = b.input('x', 'float32', [1, 4]);
    const a = b.node('Relu', [x], { name: 'act' });
    const c = b.node('Relu', [a], { outputs: ['r'] });
    // Two nodes sharing a name: neither keeps it.
    const d = b.node('Sigmoid', [c], { name: 'dup', outputs: ['s1'] });
    const e = b.node('Sigmoid', [d], { name: 'dup', outputs: ['s2'] });
    // A node whose own name equals another node's derived name keeps its own.
    b.output(b.node('Tanh', [e], { name: 'Relu_r', outputs: ['t'] }));
    const names = b.build().graph.nodes.map((n) => n.name);
    expect(names).toEqual(['act', 'Relu_r_2', 'Sigmoid_s1', 'Sigmoid_s2', 'Relu_r']);
  });

  it('puts a file written out of order into topological order, keeping file order otherwise', () => {
    const b = new ModelBuilder();
    b.input('x', 'float32', [1]);
    b.node('Relu', ['a'], { outputs: ['b'], name: 'second' });
    b.node('Relu', ['x'], { outputs: ['a'], name: 'first' });
    b.node('Relu', ['x'], { outputs: ['c'], name: 'third' });
    b.output('b');
    expect(b.build().graph.nodes.map((n) => n.name)).toEqual(['first', 'second', 'third']);
  });

  it('finds params behind initializers and Identity nodes, and MatMul weights on either side', () => {
    const b = new ModelBuilder();
    const x = b.input('x', 'float32', [2, 4]);
    b.initializer('w_raw', [4, 4], new Float32Array(16));
    const w = b.node('Identity', ['w_raw'], { outputs: ['w'] });
    const y = b.node('MatMul', [x, w], { name: 'fc' });
    const k = b.constant('k', [2, 2], [1, 2, 3, 4]);
    b.output(b.node('MatMul', [k, y], { name: 'left' }));
    const model = b.build();
    const fc = model.graph.findLayers('fc')[0];
    expect(fc?.params).toEqual([{ tensor: 'w', role: 'weight', inputIndex: 1, source: 'initializer', shape: [4, 4] }]);
    expect(model.graph.findLayers(/left/)[0]?.params[0]?.tensor).toBe('k');
    expect(model.graph.tensor('w_raw')?.role).toBe('param');
  });
});
