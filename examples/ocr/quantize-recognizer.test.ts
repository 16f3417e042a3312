import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { quantizeRecognizer } from './quantize-recognizer.js';

describe('the OCR example', () => {
  it('runs: per-channel weights and 16 bits on the most sensitive layers of the shipped report', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'quantsim-ocr-example-'));
    try {
      // Fewer lines than the full run (64 and 96) keep the test short.
      const result = await quantizeRecognizer({ calibSamples: 12, evalSamples: 16, prefix: path.join(dir, 'rec') });
      // The report measured weights costing more than activations, so weights go per-channel.
      expect(result.perChannel).toBe(true);
      expect(result.sensitiveLayers).toHaveLength(8);
      expect(result.sensitiveLayers.slice(0, 3)).toEqual(['p2o.Conv.1', 'p2o.Conv.6', 'p2o.Conv.28']);
      const conv1 = result.plan.quantizers.find((q) => q.layer === 'p2o.Conv.1' && q.kind === 'param' && q.enabled);
      expect(conv1).toMatchObject({ bitwidth: 16, perChannelAxis: 0 });
      const other = result.plan.quantizers.find((q) => q.layer === 'p2o.Conv.2' && q.kind === 'param' && q.enabled);
      expect(other).toMatchObject({ bitwidth: 8, perChannelAxis: 0 });
      expect(result.float.cer).toBeLessThan(0.02);
      expect(result.quantized.cer).toBeLessThan(0.06);
      expect(Object.keys(result.files).sort()).toEqual(['encodings', 'onnx', 'ort-overrides', 'plan', 'qdq']);
      for (const f of Object.values(result.files)) expect((await stat(f as string)).size).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
