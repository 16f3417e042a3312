import { describe, expect, it } from 'vitest';
import { float, foldBatchNorms, ModelBuilder } from '../src/index.js';

/** Conv (with or without bias) → BatchNormalization → Relu, or with the BatchNorm's output as the graph output. */
function convBn(options: { bias: boolean; bnIsOutput: boolean }) {
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 2, 4, 4]);
  const w = b.initializer('conv1.weight', [3, 2, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  const inputs = options.bias ? [x, w, b.initializer('conv1.b', [3], [0.1, 0, -0.1])] : [x, w];
  const conv = b.node('Conv', inputs, { name: 'conv1', outputs: ['conv1_out'] });
  const p = (n: string, v: number[]) => b.initializer(n, [3], v);
  const bn = b.node('BatchNormalization', [conv, p('g', [1, 2, 3]), p('be', [0, 1, 0]), p('m', [0.5, 0, 1]), p('v', [1, 4, 9])], {
    name: 'bn1',
    outputs: ['bn1_out'],
    attrs: { epsilon: float(1e-5) },
  });
  if (options.bnIsOutput) b.output(bn);
  else b.output(b.node('Relu', [bn], { name: 'relu', outputs: ['y'] }));
  return b.build();
}

describe('BatchNorm folding names tensors as aimet_onnx does', () => {
  it('the Conv keeps its output name, its readers follow, and a created bias is <layer>.bias', () => {
    const { model, folded } = foldBatchNorms(convBn({ bias: false, bnIsOutput: false }));
    expect(folded).toEqual([{ layer: 'conv1', batchNorm: 'bn1' }]);
    const nodes = model.proto.graph?.node ?? [];
    const conv = nodes.find((n) => n.opType === 'Conv');
    expect(conv?.output).toEqual(['conv1_out']);
    expect(conv?.input[2]).toBe('conv1.bias');
    expect(nodes.find((n) => n.opType === 'Relu')?.input).toEqual(['conv1_out']);
    expect(nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    expect(model.graph.tensor('bn1_out')).toBeUndefined();
  });

  it('an existing bias keeps its name; a BatchNorm output that is a graph output passes its name to the Conv', () => {
    const { model } = foldBatchNorms(convBn({ bias: true, bnIsOutput: true }));
    const conv = model.proto.graph?.node.find((n) => n.opType === 'Conv');
    expect(conv?.input[2]).toBe('conv1.b');
    expect(conv?.output).toEqual(['bn1_out']);
    expect(model.proto.graph?.output.map((o) => o.name)).toEqual(['bn1_out']);
  });
});
