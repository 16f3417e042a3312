import { describe, expect, it } from 'vitest';
import { samples, WORKLOADS } from '../../../bench/workloads.js';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { type CalibrationStats, quant } from '../src/index.js';

/** Range, count and non-finite count of every tensor. */
function ranges(stats: CalibrationStats): Record<string, number[]> {
  return Object.fromEntries(Object.entries(stats.tensors).map(([t, s]) => [t, [s.min, s.max, s.count, s.nonFinite]]));
}

describe('packed in-graph statistics', () => {
  // minmax reads ranges from in-graph reductions packed into one output; a histogram scheme copies
  // every element of the same tensors into JavaScript, which computes the range itself. Both are
  // exact, so they must agree bit for bit, and so must the minmax encodings computed from them.
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
      const everyElement = await quant(c.model()).scheme('tf-enhanced').collectStats(data);
      expect(Object.keys(reduced.tensors).length).toBeGreaterThan(3);
      expect(ranges(reduced)).toEqual(ranges(everyElement));
      const a = await minmax.fromStats(reduced);
      const b = await minmax.fromStats(everyElement);
      expect([...a.encodings]).toEqual([...b.encodings]);
      await a.release();
      await b.release();
    }, 120_000);
});
