import { CpuBackend } from '@quantsim/backends';
import { describe, expect, it } from 'vitest';
import { samples, WORKLOADS } from '../../../bench/workloads.js';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { buildStatisticsGraph, type CalibrationStats, type FeedsLike, loadModel, quant } from '../src/index.js';

/** Range, count and non-finite count of every tensor. */
function ranges(stats: CalibrationStats): Record<string, number[]> {
  return Object.fromEntries(Object.entries(stats.tensors).map(([t, s]) => [t, [s.min, s.max, s.count, s.nonFinite]]));
}

/**
 * Range, count and non-finite count of every requested tensor, computed here in JavaScript from a
 * session that outputs the tensors themselves (no in-graph reduction involved).
 */
async function everyElement(
  job: Awaited<ReturnType<ReturnType<typeof quant>['statisticsJob']>>,
  data: readonly FeedsLike[],
): Promise<Record<string, [number, number, number, number]>> {
  const model = await loadModel(job.model);
  const whole = buildStatisticsGraph(
    model,
    job.requests.map((r) => ({ tensor: r.tensor, full: true })),

    { derive: false },
  );
  expect(whole.outputs.every((o) => o.values === o.tensor && o.stride === 1)).toBe(true);
  const session = await new CpuBackend().createSession(whole.model.toBytes({ inlineExternal: true }), { mode: 'float' });
  const expected: Record<string, [number, number, number, number]> = {};
  try {
    for (const feeds of data) {
      const computed = job.requests.map((r) => r.tensor).filter((t) => !(t in feeds));
      const typed = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { type: 'float32' as const, ...v }]));
      const out = await session.run(typed as never, computed);
      for (const r of job.requests) {
        const values = (out[r.tensor] ?? (feeds[r.tensor] as { data: Float32Array })).data as Float32Array;
        let [min, max, count, nonFinite] = expected[r.tensor] ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 0];
        for (let i = 0; i < values.length; i++) {
          const v = values[i] as number;
          if (!Number.isFinite(v)) nonFinite++;
          else {
            if (v < min) min = v;
            if (v > max) max = v;
            count++;
          }
        }
        expected[r.tensor] = [min + 0, max + 0, count, nonFinite];
      }
    }
  } finally {
    await session.release();
  }
  return expected;
}

describe('packed in-graph statistics', () => {
  // minmax reads ranges from in-graph reductions packed into one output; a histogram scheme copies
  // every element of the same tensors into JavaScript and bins them within the range the same
  // reductions give (checking that no value falls outside). Both must agree bit for bit with the
  // range of every element computed here in JavaScript, and so must the minmax encodings.
  const cases = [
    { name: 'detector head', model: () => buildDetectorHead(), data: () => detectorImages(6) },
    {
      name: 'PaddleOCR classifier',
      model: () => WORKLOADS.classifier?.model as string,
      data: () => [...samples(WORKLOADS.classifier as never, 3)],
    },
  ];
  for (const c of cases)
    it(`give exactly the range and count that every element gives, and the same minmax encodings (${c.name})`, async () => {
      const data = c.data();
      const minmax = quant(c.model()).scheme('minmax');
      const reduced = await minmax.collectStats(data);
      const histograms = await quant(c.model()).scheme('tf-enhanced').collectStats(data);
      expect(Object.keys(reduced.tensors).length).toBeGreaterThan(3);
      const expected = await everyElement(await minmax.statisticsJob(), data as FeedsLike[]);
      expect(ranges(reduced)).toEqual(expected);
      expect(ranges(histograms)).toEqual(expected);
      const a = await minmax.fromStats(reduced);
      const b = await minmax.fromStats(histograms);
      expect([...a.encodings]).toEqual([...b.encodings]);
      await a.release();
      await b.release();
    }, 120_000);

  it('give exactly the range and count of every element on the PaddleOCR recognizer, and the same minmax encodings', async () => {
    // The reductions run in an order of their own (after the model in the graph, the last
    // tensor's first; see buildStatisticsGraph): check them on the largest model against every
    // element of every tensor, computed here from a session that outputs the tensors themselves.
    const data = [...samples(WORKLOADS.recognizer as never, 2)] as FeedsLike[];
    const minmax = quant(WORKLOADS.recognizer?.model as string).scheme('minmax');
    const reduced = await minmax.collectStats(data);
    const job = await minmax.statisticsJob();
    const expected = await everyElement(job, data);
    expect(job.requests.length).toBeGreaterThan(300);
    expect(ranges(reduced)).toEqual(expected);
    const stats: CalibrationStats = {
      samples: reduced.samples,
      tensors: Object.fromEntries(
        Object.entries(expected).map(([t, [min, max, count, nonFinite]]) => [t, { min, max, count, nonFinite }]),
      ) as CalibrationStats['tensors'],
    };
    const a = await minmax.biasCorrection(false).fromStats(reduced);
    const b = await minmax.biasCorrection(false).fromStats(stats);
    expect([...a.encodings]).toEqual([...b.encodings]);
    await a.release();
    await b.release();
  }, 240_000);
});
