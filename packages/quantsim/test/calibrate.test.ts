import { describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { CalibrationError, mergeCalibrationStats, NotCalibratedError, quant, RuleViolationError } from '../src/index.js';

const data = detectorImages(12);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('calibration end to end on the detector head', () => {
  it('calibrates the mission line, runs, and stays close to float', async () => {
    const sim = await quant(buildDetectorHead())
      .defaults({ activations: 8, params: 8, scheme: 'tf-enhanced' })
      .layers(/fc|bbox/)
      .activations(16)
      .params(16)
      .calibrate(data);
    try {
      expect(sim.missingEncodings).toEqual([]);
      const fc6 = sim.encodings.get('param:fc6.weight');
      expect(fc6?.bitwidth).toBe(16);
      expect(fc6?.channels[0]?.offset).toBe(-32768);
      const conv = sim.encodings.get('activation:backbone.relu1_out');
      expect(conv?.bitwidth).toBe(8);
      // A Relu output is non-negative: the asymmetric grid starts at 0.
      expect(conv?.channels[0]?.offset).toBe(0);
      const q = await sim.run(data[0] as never);
      const f = await sim.runFloat(data[0] as never);
      const qs = q.cls_prob?.data as Float32Array;
      const fs = f.cls_prob?.data as Float32Array;
      expect(qs.length).toBe(5);
      expect(maxAbsDiff(qs, fs)).toBeLessThan(0.05);
      expect(maxAbsDiff(qs, fs)).toBeGreaterThan(0);
      const report = await sim.compare(data.slice(0, 4) as never);
      expect(report.length).toBeGreaterThan(5);
      expect(report[0]?.sqnr).toBeLessThanOrEqual(report[report.length - 1]?.sqnr ?? 0);
      for (const r of report) expect(r.sqnr).toBeGreaterThan(10);
    } finally {
      await sim.release();
    }
  });

  it('16-bit layers are closer to float than 8-bit ones', async () => {
    const w8 = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const w16 = await quant(buildDetectorHead()).scheme('minmax').activations(16).params(16).calibrate(data);
    const s8 = await w8.compare(data.slice(0, 4) as never);
    const s16 = await w16.compare(data.slice(0, 4) as never);
    const out8 = s8.find((r) => r.tensor === 'bbox_pred_out')?.sqnr ?? 0;
    const out16 = s16.find((r) => r.tensor === 'bbox_pred_out')?.sqnr ?? 0;
    expect(out16).toBeGreaterThan(out8 + 30);
    await w8.release();
    await w16.release();
  });

  it('sharded calibration gives the same encodings as one pass', async () => {
    for (const scheme of ['minmax', 'tf-enhanced', 'percentile', 'mse', 'entropy']) {
      const b = quant(buildDetectorHead()).scheme(scheme);
      const whole = await b.fromStats(await b.collectStats(data));
      const parts = await Promise.all([
        b.collectStats(data.slice(0, 5)),
        b.collectStats(data.slice(5, 9)),
        b.collectStats(data.slice(9)),
      ]);
      const merged = await b.fromStats(parts.reduce(mergeCalibrationStats));
      expect([...merged.encodings], scheme).toEqual([...whole.encodings]);
    }
  });

  it('with a histogram stride, sharding is still exact and the range stays exact', async () => {
    const b = quant(buildDetectorHead()).scheme('tf-enhanced');
    const options = { histogramStride: 7 };
    const whole = await b.collectStats(data, options);
    const parts = await Promise.all([b.collectStats(data.slice(0, 5), options), b.collectStats(data.slice(5), options)]);
    const merged = parts.reduce(mergeCalibrationStats);
    expect(merged).toEqual(whole);
    const exact = await b.collectStats(data);
    for (const [t, s] of Object.entries(exact.tensors)) {
      const sampled = whole.tensors[t];
      expect([sampled?.min, sampled?.max, sampled?.count], t).toEqual([s.min, s.max, s.count]);
    }
    await expect(b.collectStats(data, { histogramStride: 0 })).rejects.toThrow(
      /histogramStride must be a positive integer, received 0/,
    );
  });

  it('refuses to run before calibration', async () => {
    const sim = await quant(buildDetectorHead()).simulate();
    await expect(sim.run(data[0] as never)).rejects.toThrow(NotCalibratedError);
    await expect(sim.run(data[0] as never)).rejects.toThrow(
      /would run unquantized\. Call \.calibrate\(data\) on the builder first/,
    );
  });

  it('names the tensor and sample of a NaN, or skips and counts with nonFinite: ignore', async () => {
    const bad = detectorImages(3);
    (bad[1]?.image.data as Float32Array)[5] = Number.NaN;
    const b = quant(buildDetectorHead()).scheme('minmax');
    const err = await b.calibrate(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalibrationError);
    expect((err as Error).message).toMatch(
      /Tensor '.*' holds NaN or infinite values in calibration sample 1\..*nonFinite: 'ignore'/,
    );
    const stats = await b.collectStats(bad, { nonFinite: 'ignore' });
    const counted = Object.values(stats.tensors).reduce((n, s) => n + s.nonFinite, 0);
    expect(counted).toBeGreaterThan(0);
    const sim = await b.fromStats(stats);
    for (const enc of sim.encodings.values()) for (const c of enc.channels) expect(Number.isFinite(c.scale)).toBe(true);
  });

  it('stops cleanly on abort, with progress reported', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const err = await quant(buildDetectorHead())
      .calibrate(data, {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.done);
          if (p.done === 3) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Calibration was aborted after 3 samples; no encodings were computed/);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('checks feeds against the model inputs', async () => {
    const b = quant(buildDetectorHead());
    await expect(b.calibrate([{ img: data[0]?.image } as never])).rejects.toThrow(/calibration sample 0: missing input 'image'/);
    await expect(b.calibrate([{ image: { data: new Float32Array(10), dims: [1, 10] } }])).rejects.toThrow(
      /has dims \[1, 10\] but the model expects rank 4/,
    );
  });

  it('after edit(), changing a calibrated quantizer needs recalibrate(), which recomputes exactly those', async () => {
    const sim = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const edited = sim.edit().layers(/fc7/).activations(16);
    const err = await edited.calibrate(data).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuleViolationError);
    expect((err as Error).message).toMatch(
      /\[overrides-before-encodings\] \.layers\(\/fc7\/\)\.activations\(16\) changes bitwidth of activation:fc7\.relu_out from 8 to 16, but that quantizer already has an encoding\. Call \.recalibrate\(\)/,
    );
    const again = await edited.recalibrate().calibrate(data.slice(0, 2));
    expect(again.encodings.get('activation:fc7.relu_out')?.bitwidth).toBe(16);
    // Unchanged quantizers keep their encodings (computed from all 12 samples, not the 2 given now).
    expect(again.encodings.get('activation:fc6.relu_out')).toEqual(sim.encodings.get('activation:fc6.relu_out'));
    await sim.release();
    await again.release();
  });
});
