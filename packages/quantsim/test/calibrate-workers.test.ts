import os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { REAL_MODELS } from '../../../test-support/models.js';
import { recognizerSamples } from '../../../test-support/recognizer-samples.js';
import { type Backend, CalibrationError, quant, type ThreadPoolReport } from '../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('calibration on worker threads', () => {
  const data = recognizerSamples(6);

  for (const scheme of ['minmax', 'tf-enhanced']) {
    it(`gives the recognizer's ${scheme} encodings bit for bit, on 2 threads`, async () => {
      const b = quant(REAL_MODELS.ocrRecognizer).scheme(scheme);
      const single = await b.collectStats(data);
      const reports: ThreadPoolReport[] = [];
      let progress = 0;
      const threaded = await b.collectStats(data, {
        workers: 2,
        onWorkers: (r) => reports.push(r),
        onProgress: (p) => {
          progress = p.done;
        },
      });
      expect(reports[0]?.used).toBe(2);
      expect(progress).toBe(data.length);
      // The statistics themselves merge exactly, so they are equal, not close.
      expect(threaded).toEqual(single);
      const [a, t] = [await b.fromStats(single), await b.fromStats(threaded)];
      expect(t.encodings.size).toBeGreaterThan(100);
      expect([...t.encodings]).toEqual([...a.encodings]);
      console.log(`recognizer ${scheme}: 2 threads, ${Math.round((reports[0]?.perWorkerBytes ?? 0) / 2 ** 20)} MiB per worker`);
      // Minutes on a busy 2-core machine.
    }, 400_000);
  }

  it('caps the threads to free memory, with a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // Less free memory than one more worker costs: the first worker goes on alone.
    vi.spyOn(os, 'freemem').mockReturnValue(1 << 20);
    vi.spyOn(process, 'availableMemory').mockReturnValue(1 << 20);
    const b = quant(buildDetectorHead()).scheme('minmax');
    const images = detectorImages(4);
    const reports: ThreadPoolReport[] = [];
    const stats = await b.collectStats(images, { workers: 3, onWorkers: (r) => reports.push(r) });
    expect(reports[0]?.used).toBe(1);
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(
      /calibrate\(\{ workers: 3 \}\): each worker takes about \d+ MiB and 1 MiB are free; using 1 workers/,
    );
    expect(stats).toEqual(await b.collectStats(images));
  });

  it('names the sample of a NaN by its index in the whole data', async () => {
    const images = detectorImages(5);
    (images[3]?.image.data as Float32Array)[7] = Number.NaN;
    const err = await quant(buildDetectorHead())
      .scheme('minmax')
      .collectStats(images, { workers: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalibrationError);
    expect((err as CalibrationError).code).toBe('NON_FINITE');
    expect((err as Error).message).toMatch(/in calibration sample 3\./);
  });

  it('refuses bad worker counts and backends that cannot be made in a thread', async () => {
    const b = quant(buildDetectorHead());
    await expect(b.collectStats(detectorImages(1), { workers: 0 })).rejects.toThrow(
      /workers must be a positive integer or 'auto', received 0/,
    );
    const cpu = (await import('@quantsim/backends')).CpuBackend;
    const inner = new cpu();
    const noRecipe: Backend = {
      name: 'norecipe',
      capabilities: inner.capabilities,
      probe: () => inner.probe(),
      createSession: (m, o) => inner.createSession(m, o),
    };
    await expect(b.backend(noRecipe).collectStats(detectorImages(2), { workers: 2 })).rejects.toThrow(
      /backend 'norecipe' has no recipe, so worker threads cannot make it/,
    );
  });
});
