import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { quantizeDetectorHead } from './quantize.js';

describe('the mission example', () => {
  it('runs: fc/bbox at 16 bits, the rest at 8, compared and exported in every format', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'quantsim-example-'));
    try {
      const { plan, comparison, files } = await quantizeDetectorHead(path.join(dir, 'head'));
      const bits = (id: string) => plan.get(id)?.bitwidth;
      expect([bits('param:fc6.weight'), bits('param:fc7.weight'), bits('param:bbox_pred.weight')]).toEqual([16, 16, 16]);
      expect([bits('param:cls_score.weight'), bits('param:backbone.conv1.weight')]).toEqual([8, 8]);
      const box = comparison.find((c) => c.tensor === 'bbox_pred_out');
      expect(box?.sqnr).toBeGreaterThan(25);
      expect(Object.keys(files).sort()).toEqual(['encodings', 'onnx', 'ort-overrides', 'plan', 'qdq']);
      for (const f of Object.values(files)) expect((await stat(f as string)).size).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
