import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeNpy } from '@quantsim/data';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { quant } from 'quantsim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { REAL_MODELS } from '../../../test-support/models.js';
import { recognizerSamples } from '../../../test-support/recognizer-samples.js';
import { calibrateOnQueue, QueueError, runWorker, startWorkerProcess, type WorkerProcess } from '../src/index.js';
import { redisMissing, startRedis, type TestRedis } from './redis-server.js';

// Recognizer runs on a busy 2-core machine take minutes, not the default 2.
const HEAVY = 400_000;
const missing = redisMissing();
if (missing) console.log(`skipping the BullMQ tests: ${missing}`);

describe.skipIf(missing !== undefined)('calibration on a BullMQ queue (real redis-server)', () => {
  let redis: TestRedis;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quantsim-queue-'));
  const recognizerData = recognizerSamples(6);

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password, or none, with a clear error', async () => {
    const wrong = `redis://:not-the-password@127.0.0.1:${redis.port}`;
    const err = await calibrateOnQueue(quant(buildDetectorHead()), detectorImages(2), { redis: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueError);
    expect((err as Error).message).toMatch(/Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? refused the password/);
    expect((err as Error).message).not.toMatch(/not-the-password/);
    await expect(runWorker({ redis: wrong })).rejects.toThrow(/refused the password/);
    await expect(runWorker({ redis: `redis://127.0.0.1:${redis.port}` })).rejects.toThrow(
      /requires a password and none was given/,
    );
    await expect(runWorker({ redis: `http://127.0.0.1:${redis.port}` })).rejects.toThrow(
      /must start with redis:\/\/ or rediss:\/\//,
    );
  });

  it(
    "gives the recognizer's minmax encodings bit for bit on 3 local worker processes (feeds sent with the jobs)",
    async () => {
      const b = quant(REAL_MODELS.ocrRecognizer).scheme('minmax');
      const single = await b.calibrate(recognizerData);
      const queued = await calibrateOnQueue(b, recognizerData, {
        redis: redis.url,
        queue: 'rec-minmax',
        workers: 3,
        shardSize: 2,
      });
      expect(queued.encodings.size).toBeGreaterThan(100);
      expect([...queued.encodings]).toEqual([...single.encodings]);
    },
    HEAVY,
  );

  describe('with three worker processes started apart from the coordinator', () => {
    const npyDir = path.join(dir, 'rec-npy');
    let workers: WorkerProcess[] = [];

    beforeAll(async () => {
      mkdirSync(npyDir);
      recognizerData.forEach((s, i) => {
        const x = s.x as { data: Float32Array; dims: number[] };
        writeFileSync(path.join(npyDir, `${String(i).padStart(3, '0')}.npy`), encodeNpy(x.data, x.dims));
      });
      workers = await Promise.all(
        [0, 1, 2].map(() =>
          startWorkerProcess({
            redis: redis.url,
            queue: 'shared',
            dataFolders: [npyDir],
            threads: 1,
            // Short enough for a quick retry, long enough for a busy machine's event loop.
            lockDuration: 5000,
            stalledInterval: 1000,
          }),
        ),
      );
    }, HEAVY);
    afterAll(async () => {
      for (const w of workers)
        if (w.child.exitCode !== null)
          console.log(`worker ${w.child.pid} exited on its own (${w.child.exitCode}):\n${w.output()}`);
      await Promise.all(workers.map((w) => w.stop(5000)));
    });

    it(
      "gives the recognizer's tf-enhanced encodings bit for bit, each worker reading a folder of .npy files",
      async () => {
        const b = quant(REAL_MODELS.ocrRecognizer).scheme('tf-enhanced');
        const single = await b.calibrate(recognizerData);
        const queued = await calibrateOnQueue(
          b,
          { npyFolder: npyDir },
          { redis: redis.url, queue: 'shared', shardSize: 2, timeout: 300_000 },
        );
        expect([...queued.encodings]).toEqual([...single.encodings]);
      },
      HEAVY,
    );

    it(
      'retries the shard of a worker killed with SIGKILL mid-shard, and the result is unchanged',
      async () => {
        const b = quant(REAL_MODELS.ocrRecognizer).scheme('minmax');
        const single = await b.calibrate(recognizerData);
        const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
        const queue = new Queue('shared', { connection });
        let killed: number | undefined;
        // Watch for a shard with at least one sample done, and kill the worker that holds it. The
        // shard holds every sample, so that the kill has five samples' time to land (with shards of
        // 3, a shard's last two samples sometimes ended between two looks), and the watch looks
        // every 20 ms.
        const watch = (async () => {
          for (let i = 0; i < 3000 && killed === undefined; i++) {
            for (const job of await queue.getActive()) {
              const p = job.progress as { worker?: string; done?: number };
              const pid = Number(p.worker?.split(':').pop());
              // Only a live worker: a job's progress outlives a worker that died some other way.
              const mine = workers.find((w) => w.child.pid === pid && w.child.exitCode === null && w.child.signalCode === null);
              if (mine && (p.done ?? 0) >= 1) {
                mine.child.kill('SIGKILL');
                killed = pid;
                break;
              }
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        try {
          const queued = await calibrateOnQueue(
            b,
            { npyFolder: npyDir },
            { redis: redis.url, queue: 'shared', shardSize: 6, timeout: 300_000 },
          );
          await watch;
          expect(killed).toBeDefined();
          const victim = workers.find((w) => w.child.pid === killed);
          // The exit is reported asynchronously; wait for it, at most 10 s.
          for (let i = 0; i < 100 && victim?.child.signalCode === null && victim.child.exitCode === null; i++)
            await new Promise((r) => setTimeout(r, 100));
          if (victim?.child.signalCode !== 'SIGKILL')
            console.log(
              `worker ${killed}: exit ${victim?.child.exitCode}, signal ${victim?.child.signalCode}\n${victim?.output()}`,
            );
          expect(victim?.child.signalCode).toBe('SIGKILL');
          expect([...queued.encodings]).toEqual([...single.encodings]);
        } finally {
          await queue.close();
          connection.disconnect();
        }
      },
      HEAVY,
    );

    it(
      'fails the run naming the shard when a job fails three times (a data path outside the workers’ folders)',
      async () => {
        const outside = path.join(dir, 'outside');
        mkdirSync(outside);
        writeFileSync(path.join(outside, '0.npy'), encodeNpy(new Float32Array(3 * 48 * 320), [1, 3, 48, 320]));
        const err = await calibrateOnQueue(
          quant(REAL_MODELS.ocrRecognizer).scheme('minmax'),
          { npyFolder: outside },
          {
            redis: redis.url,
            queue: 'shared',
            timeout: 120_000,
          },
        ).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(QueueError);
        expect((err as QueueError).shard?.index).toBe(0);
        expect((err as Error).message).toMatch(
          /shard 0 \(samples 0–0\) failed 3 times; last error: .*outside the folders this worker may read/,
        );
      },
      HEAVY,
    );
  });

  it('runs .biasCorrection() on the first samples in the coordinator, as a local calibrate() does', async () => {
    const b = quant(buildDetectorHead()).scheme('minmax').biasCorrection({ samples: 4 });
    const images = detectorImages(6);
    const single = await b.calibrate(images);
    const worker = await runWorker({ redis: redis.url, queue: 'bias' });
    try {
      const queued = await calibrateOnQueue(b, images, { redis: redis.url, queue: 'bias', shardSize: 2, timeout: 120_000 });
      const shifts = (sim: typeof single) =>
        (sim.postTraining.biasCorrection ?? []).map((r) => ({ layer: r.layer, shift: Array.from(r.shift) }));
      expect(shifts(single).length).toBeGreaterThan(0);
      expect(shifts(queued)).toEqual(shifts(single));
      const out = Object.keys(await single.run(images[0] as never))[0] as string;
      expect(Array.from((await queued.run(images[0] as never))[out]?.data as Float32Array)).toEqual(
        Array.from((await single.run(images[0] as never))[out]?.data as Float32Array),
      );
      await queued.release();
    } finally {
      await worker.close();
      await single.release();
    }
  });

  it('resumes a run from its finished shards when the coordinator starts again with the same runId', async () => {
    const b = quant(buildDetectorHead()).scheme('tf-enhanced');
    const images = detectorImages(12);
    const single = await b.calibrate(images);
    // BullMQ runs a job at least once: under load a lock can lapse and a shard start twice, so the
    // test counts what finished in the first run and what the second run had to start.
    let phase = 1;
    const finishedFirst = new Set<string>();
    const startedSecond = new Set<string>();
    const log = (line: string) => {
      const m = /^shard (\d+)\/\d+ of run resume-1: (started|\d+ samples done)/.exec(line);
      if (!m) return;
      if (phase === 1 && m[2] !== 'started') finishedFirst.add(m[1] as string);
      if (phase === 2 && m[2] === 'started') startedSecond.add(m[1] as string);
    };
    const options = { redis: redis.url, queue: 'resume', runId: 'resume-1', shardSize: 2, timeout: 120_000 };
    // First coordinator: stops (as if it crashed) once one worker has finished two shards.
    const first = new AbortController();
    const worker1 = await runWorker({ redis: redis.url, queue: 'resume', log });
    const run1 = calibrateOnQueue(b, images, {
      ...options,
      signal: first.signal,
      onProgress: (p) => {
        if (p.done >= 4) {
          first.abort();
          void worker1.close();
        }
      },
    }).catch((e: unknown) => e);
    expect(String(await run1)).toMatch(/Run resume-1 was aborted; finished shards stay in Redis/);
    await worker1.close();
    phase = 2;
    expect(finishedFirst.size).toBeGreaterThanOrEqual(2);
    expect(finishedFirst.size).toBeLessThan(6);
    const worker2 = await runWorker({ redis: redis.url, queue: 'resume', log });
    try {
      const sim = await calibrateOnQueue(b, images, options);
      expect([...sim.encodings]).toEqual([...single.encodings]);
    } finally {
      await worker2.close();
    }
    // The second coordinator reused what the first one's worker finished and ran only the rest.
    for (const shard of finishedFirst) expect(startedSecond.has(shard), `shard ${shard} ran again`).toBe(false);
    expect([...new Set([...finishedFirst, ...startedSecond])].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
  });
});
