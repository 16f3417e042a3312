import { describe, expect, it } from 'vitest';
import { calibrationRss } from '../../../bench/measure.js';
import { samples, WORKLOADS } from '../../../bench/workloads.js';
import { quant } from '../src/index.js';

describe('PaddleOCR end to end', () => {
  it('the detector at 640×640 calibrates on 64 samples, runs, and reports per-layer SQNR', async () => {
    const w = WORKLOADS.detector;
    if (!w) throw new Error('no detector workload');
    const sim = await quant(w.model)
      .scheme('minmax')
      .calibrate(() => samples(w, 64));
    try {
      expect(sim.missingEncodings).toEqual([]);
      const out = await sim.run(w.sample(3));
      const map = out['sigmoid_0.tmp_0'];
      expect(map?.dims).toEqual([1, 1, 640, 640]);
      const report = await sim.compare([w.sample(3)]);
      expect(report.length).toBeGreaterThan(100);
      const finite = report
        .filter((r) => Number.isFinite(r.sqnr))
        .map((r) => r.sqnr)
        .sort((a, b) => a - b);
      const median = finite[finite.length >> 1] ?? 0;
      console.log(
        `detector: ${report.length} tensors compared; worst ${report[0]?.tensor} at ${report[0]?.sqnr.toFixed(1)} dB; median ${median.toFixed(1)} dB`,
      );
      // Noise accumulates along the network (about 200 quantizers at 8 bits per tensor), so
      // late layers sit near 10 dB while the first quantized tensors, with little upstream
      // noise, are near the single-quantizer figure of 35–40 dB.
      expect(finite.length).toBeGreaterThan(report.length * 0.9);
      expect(median).toBeGreaterThan(5);
      const first = sim.plan.quantizers.find((q) => q.kind === 'activation' && q.layer !== undefined && q.enabled);
      const early = report.find((r) => r.tensor === first?.tensor);
      console.log(`detector: first quantized activation ${early?.tensor} at ${early?.sqnr.toFixed(1)} dB`);
      expect(early?.sqnr).toBeGreaterThan(25);
    } finally {
      await sim.release();
    }
  });

  it('the recognizer calibrates with tf-enhanced, runs, and reports per-layer SQNR', async () => {
    const w = WORKLOADS.recognizer;
    if (!w) throw new Error('no recognizer workload');
    const sim = await quant(w.model).calibrate(() => samples(w, 8));
    try {
      const out = await sim.run(w.sample(1));
      const probs = out['softmax_11.tmp_0'];
      expect(probs?.dims).toEqual([1, 40, 6625]);
      const report = await sim.compare([w.sample(1)]);
      const output = report.find((r) => r.isGraphOutput);
      console.log(
        `recognizer: worst ${report[0]?.tensor} at ${report[0]?.sqnr.toFixed(1)} dB; output ${output?.sqnr.toFixed(1)} dB`,
      );
      expect(output?.sqnr).toBeGreaterThan(5);
    } finally {
      await sim.release();
    }
  });
});

describe('memory', () => {
  it('peak RSS does not grow with the number of calibration samples', async () => {
    // Fresh processes, so that each peak is its own; samples are generated on the fly.
    for (const scheme of ['minmax', 'tf-enhanced']) {
      const few = await calibrationRss('recognizer', scheme, 8);
      const many = await calibrationRss('recognizer', scheme, 48);
      const growth = many.maxRssMiB - few.maxRssMiB;
      console.log(
        `${scheme}: peak RSS ${few.maxRssMiB.toFixed(0)} MiB at 8 samples, ${many.maxRssMiB.toFixed(0)} MiB at 48 ` +
          `(growth ${growth.toFixed(0)} MiB; one sample's activations ${many.sampleMiB.toFixed(0)} MiB)`,
      );
      // A sample's activations as float32 is the unit of what calibration handles. Keeping
      // anything per sample worth 1/40 of it (40 extra samples) would outgrow this bound; the
      // peak's own noise (one sample in flight to the binning thread, garbage awaiting GC) stays
      // below one sample. A ratio bound was not from the numerics: when the histogram path's
      // peak fell from about 900 to 580 MiB, the same ±50 MiB of noise failed a 1.1 ratio.
      expect(many.sampleMiB).toBeCloseTo(few.sampleMiB, 6);
      expect(many.sampleMiB).toBeGreaterThan(0);
      expect(growth).toBeLessThan(many.sampleMiB);
    }
  });
});
