import { float, type Model, ModelBuilder } from '@quantsim/core';
import { seededRandom } from '../../test-support/random.js';

/**
 * A small two-stage detector head, built in code: a convolutional backbone (Conv+Relu with
 * BatchNorm), then fully connected layers `fc6`, `fc7`, and two heads, `cls_score` (with a
 * Softmax) and `bbox_pred`. Layer names follow the torchvision/Detectron convention, so that
 * `.layers(/fc|bbox/)` picks the fully connected layers and the box regressor.
 */
export function buildDetectorHead(seed = 7): Model {
  const rnd = seededRandom(seed);
  const weights = (n: number, fanIn: number) => Array.from({ length: n }, () => (rnd() * 2 - 1) * Math.sqrt(3 / fanIn));
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('image', 'float32', [1, 3, 32, 32]);
  const conv = (name: string, input: string, cin: number, cout: number, stride: number) =>
    b.node(
      'Conv',
      [
        input,
        b.initializer(`${name}.weight`, [cout, cin, 3, 3], weights(cout * cin * 9, cin * 9)),
        b.initializer(`${name}.bias`, [cout], weights(cout, cin)),
      ],
      {
        name,
        outputs: [`${name}_out`],
        attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] },
      },
    );
  const c1 = conv('backbone.conv1', x, 3, 8, 2);
  const bn = b.node(
    'BatchNormalization',
    [
      c1,
      b.initializer(
        'backbone.bn1.scale',
        [8],
        weights(8, 1).map((v) => 1 + v / 4),
      ),
      b.initializer('backbone.bn1.bias', [8], weights(8, 4)),
      b.initializer('backbone.bn1.mean', [8], weights(8, 4)),
      b.initializer(
        'backbone.bn1.var',
        [8],
        weights(8, 1).map((v) => 1 + Math.abs(v)),
      ),
    ],
    { name: 'backbone.bn1', outputs: ['backbone.bn1_out'], attrs: { epsilon: float(1e-5) } },
  );
  const r1 = b.node('Relu', [bn], { name: 'backbone.relu1', outputs: ['backbone.relu1_out'] });
  const c2 = conv('backbone.conv2', r1, 8, 16, 2);
  const r2 = b.node('Relu', [c2], { name: 'backbone.relu2', outputs: ['backbone.relu2_out'] });
  const pool = b.node('GlobalAveragePool', [r2], { name: 'backbone.pool', outputs: ['backbone.pool_out'] });
  const flat = b.node('Flatten', [pool], { name: 'flatten', outputs: ['flatten_out'], attrs: { axis: 1 } });
  const gemm = (name: string, input: string, cin: number, cout: number) =>
    b.node(
      'Gemm',
      [
        input,
        b.initializer(`${name}.weight`, [cout, cin], weights(cout * cin, cin)),
        b.initializer(`${name}.bias`, [cout], weights(cout, cin)),
      ],
      {
        name,
        outputs: [`${name}_out`],
        attrs: { transB: 1 },
      },
    );
  const fc6 = b.node('Relu', [gemm('fc6', flat, 16, 32)], { name: 'fc6.relu', outputs: ['fc6.relu_out'] });
  const fc7 = b.node('Relu', [gemm('fc7', fc6, 32, 32)], { name: 'fc7.relu', outputs: ['fc7.relu_out'] });
  const scores = b.node('Softmax', [gemm('cls_score', fc7, 32, 5)], {
    name: 'cls_prob',
    outputs: ['cls_prob'],
    attrs: { axis: 1 },
  });
  b.output(scores, 'float32', [1, 5]);
  b.output(gemm('bbox_pred', fc7, 32, 20), 'float32', [1, 20]);
  return b.build('detector-head');
}

/** Deterministic random images for calibration and evaluation of the detector head. */
export function detectorImages(count: number, seed = 11): { image: { data: Float32Array; dims: number[] } }[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    image: { data: Float32Array.from({ length: 3 * 32 * 32 }, () => rnd() * 2 - 1), dims: [1, 3, 32, 32] },
  }));
}
