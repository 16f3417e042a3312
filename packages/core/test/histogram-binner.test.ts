import { describe, expect, it } from 'vitest';
import { HistogramBinner } from '../src/calibrate/histogram-binner.js';
import { createStatsAccumulator } from '../src/calibrate/stats.js';

/** Deterministic values of one tensor in one sample: a ReLU-like spike at 0, a slowly growing range. */
function values(tensor: number, sample: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let s = (tensor + 1) * 7919 + sample * 104729;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const u = s / 2147483648;
    out[i] = i % 4 === 0 ? 0 : (u - 0.35) * (1 + sample * 0.7 + tensor);
  }
  return out;
}

describe('HistogramBinner', () => {
  it('gives exactly the statistics of one accumulator per tensor, with part of the values binned on its thread', async () => {
    const tensors = 3;
    const sizes = [600_000, 300_000, 250_000];
    const total = sizes.reduce((a, b) => a + b, 0);
    const binner = new HistogramBinner(true);
    const reference = sizes.map(() => createStatsAccumulator({ histogram: true }));
    for (let sample = 0; sample < 6; sample++)
      for (let t = 0; t < tensors; t++) {
        reference[t]?.add(values(t, sample, sizes[t] as number));
        // The binner takes its own copy: values sent to the thread are transferred (detached here).
        binner.add(`t${t}`, values(t, sample, sizes[t] as number), sample, total);
        // Let the thread's acknowledgements in now and then, as the awaited session runs do.
        if (t === tensors - 1) await new Promise((r) => setTimeout(r, 5));
      }
    const offloaded = binner.offloaded;
    const stats = await binner.finish();
    for (let t = 0; t < tensors; t++) expect(stats.get(`t${t}`), `t${t}`).toEqual(reference[t]?.toStats());
    console.log(`HistogramBinner: ${offloaded} of ${6 * total} values binned on the thread`);
    expect(offloaded).toBeGreaterThan(0);
    expect(offloaded).toBeLessThan(6 * total + 1);
  });

  it('bins everything in this thread when asked to, or when a sample is too small to pay', async () => {
    for (const [offload, elements] of [
      [false, 2_000_000],
      [true, 1000],
    ] as const) {
      const binner = new HistogramBinner(offload);
      const acc = createStatsAccumulator({ histogram: true });
      for (let sample = 0; sample < 3; sample++) {
        acc.add(values(0, sample, elements));
        binner.add('x', values(0, sample, elements), sample, elements);
      }
      expect(binner.offloaded).toBe(0);
      expect((await binner.finish()).get('x')).toEqual(acc.toStats());
    }
  });

  it('names the tensor and sample of a non-finite value binned on its thread, and counts it where it was binned', async () => {
    const n = 1_200_000;
    const bad = (sample: number) => {
      const v = values(1, sample, n);
      v[123] = Number.NaN;
      v[456] = Number.POSITIVE_INFINITY;
      return v;
    };
    // The first values of a sample go to the idle thread, which reports them by tensor and sample.
    const binner = new HistogramBinner(true);
    expect(binner.add('a', bad(0), 0, n)).toBeUndefined();
    expect(binner.offloaded).toBe(n);
    // The thread's backlog is full: the next values are binned here and counted at once.
    expect(binner.add('a', bad(1), 1, n)).toBe('a');
    const stats = (await binner.finish()).get('a');
    expect(binner.nonFiniteSeen).toEqual({ tensor: 'a', sample: 0 });
    expect(stats?.nonFinite).toBe(4);
    expect(stats?.count).toBe(2 * n - 4);
  });
});
