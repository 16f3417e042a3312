import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { quant } from '../src/index.js';

/** Silero VAD v5 inputs: 512 audio samples at 16 kHz and a zero LSTM state. */
function vadSamples(count: number) {
  return Array.from({ length: count }, (_, k) => ({
    input: { data: Float32Array.from({ length: 512 }, (_, i) => 0.3 * Math.sin(i * 0.05 * (k + 1))), dims: [1, 512] },
    state: { data: new Float32Array(2 * 128), dims: [2, 1, 128] },
    sr: { type: 'int64' as const, data: BigInt64Array.from([16000n]), dims: [] },
  }));
}

describe('If/Loop/Scan bodies (not quantized yet)', () => {
  it('Silero VAD: calibration warns, naming each body, and plan.toTable() lists them', async () => {
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => warnings.push(m);
    const sim = await quant(REAL_MODELS.sileroV5)
      .calibrate(vadSamples(2) as never)
      .finally(() => {
        console.warn = original;
      });
    try {
      // Both branches of the top-level If hold the whole network: 342 nodes each, nested bodies included.
      const bodies = sim.plan.skipped.filter((s) => s.subgraph);
      expect(bodies.map((s) => s.tensor).sort()).toEqual(['If_0/else_branch', 'If_0/then_branch']);
      for (const b of bodies) expect(b.subgraph?.nodes).toBeGreaterThan(300);
      const table = sim.plan.toTable();
      expect(table).toMatch(/Not quantized: 2 If\/Loop\/Scan bodies/);
      expect(table).toMatch(/If_0\/then_branch \(\d+ nodes\)/);
      const warning = warnings.find((w) => /If\/Loop\/Scan bodies are not quantized/.test(w));
      expect(warning).toMatch(/If_0\/else_branch, \d+ nodes; If_0\/then_branch, \d+ nodes/);
      expect(warning).toMatch(/stays float/);
      // Only the graph inputs outside the bodies are quantized.
      expect(sim.plan.enabled.map((q) => q.tensor).sort()).toEqual(['input', 'state']);
    } finally {
      await sim.release();
    }
  });
});
