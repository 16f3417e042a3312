import { CpuBackend } from '@quantsim/backends';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { dryRunShapes, loadModel } from '../src/index.js';

describe('shapes by dry run', () => {
  it('fills the shapes PaddleOCR does not declare, and says where they came from', async () => {
    const model = await loadModel(REAL_MODELS.ocrRecognizer);
    const conv = model.layers().find((l) => l.opType === 'Conv')?.outputs[0] as string;
    expect(model.graph.tensor(conv)?.shape).toBeUndefined();
    const shapes = await dryRunShapes(
      model,
      { x: { data: new Float32Array(3 * 48 * 320).fill(0.5), dims: [1, 3, 48, 320] } },
      new CpuBackend(),
    );
    const view = model.graph.withShapes(shapes);
    expect(view.tensor(conv)?.shape).toEqual([1, 16, 24, 160]);
    expect(view.tensor(conv)?.shapeSource).toBe('dry-run');
    expect(view.tensor('softmax_11.tmp_0')?.shape).toEqual([1, 40, 6625]);
    // Constants keep the shapes the model declares.
    const weight = model.layers().find((l) => l.opType === 'Conv')?.params[0]?.tensor as string;
    expect(view.tensor(weight)?.shapeSource).toBe('constant-node');
  });
});
