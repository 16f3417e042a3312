import { describe, expect, it } from 'vitest';
import { calibrateWithPowerOfTwo } from './power-of-two-scheme.js';

describe('a custom encoding scheme', () => {
  it('is used through .use() and .scheme(), and every scale is a power of two', async () => {
    const sim = await calibrateWithPowerOfTwo();
    expect(sim.plan.quantizers.filter((q) => q.enabled).every((q) => q.scheme === 'pow2-minmax')).toBe(true);
    for (const [id, enc] of sim.encodings)
      for (const c of enc.channels) {
        expect(Number.isInteger(Math.log2(c.scale)), `${id}: ${c.scale}`).toBe(true);
        expect(c.min).toBeLessThanOrEqual(0);
        expect(c.max).toBeGreaterThanOrEqual(0);
      }
    const out = await sim.run({ image: { data: new Float32Array(3 * 32 * 32).fill(0.1), dims: [1, 3, 32, 32] } });
    expect(out.cls_prob?.data.length).toBe(5);
    await sim.release();
  });
});
