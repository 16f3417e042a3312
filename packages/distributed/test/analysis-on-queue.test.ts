import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  type AmpCandidate,
  analyze,
  autoMixedPrecision,
  candidateName,
  ModelBuilder,
  type QuantAnalysisReport,
  quant,
} from 'quantsim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { seededRandom } from '../../../test-support/random.js';
import { analyzeOnQueue, autoMixedPrecisionOnQueue, QueueError, startWorkerProcess, type WorkerProcess } from '../src/index.js';
import { evaluate } from './fixtures/amp-evaluate.js';
import { metric } from './fixtures/metric.mjs';
import { redisMissing, startRedis, type TestRedis } from './redis-server.js';

// Worker processes compile the sources with tsx as they start: tens of seconds on a busy machine.
const SLOW = 300_000;
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const missing = redisMissing();
if (missing) console.log(`skipping the analysis-on-queue tests: ${missing}`);

/** Conv+Relu, Conv+Relu, Conv on a free batch axis (so evaluation samples stack); conv2's channel 0 has weights 100× the others. */
function freeBatchModel() {
  const r = seededRandom(5);
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', ['N', 4, 8, 8]);
  const conv = (name: string, input: string, cin: number, cout: number, scale: (c: number) => number) =>
    b.node(
      'Conv',
      [
        input,
        b.initializer(
          `${name}.w`,
          [cout, cin, 3, 3],
          Array.from(
            { length: cout * cin * 9 },
            (_, i) => (r() * 2 - 1) * Math.sqrt(3 / (cin * 9)) * scale(Math.floor(i / (cin * 9))),
          ),
        ),
        b.initializer(
          `${name}.b`,
          [cout],
          Array.from({ length: cout }, () => r() * 0.1),
        ),
      ],
      { name, outputs: [`${name}_out`], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
    );
  const relu = (name: string, input: string) => b.node('Relu', [input], { name, outputs: [`${name}_out`] });
  const c1 = relu(
    'relu1',
    conv('conv1', x, 4, 8, () => 1),
  );
  const c2 = relu(
    'relu2',
    conv('conv2', c1, 8, 8, (c) => (c === 0 ? 100 : 1)),
  );
  b.output(
    conv('conv3', c2, 8, 4, () => 1),
    'float32',
    ['N', 4, 8, 8],
  );
  return b.build();
}

function samples(count: number, seed: number) {
  const r = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    x: { data: Float32Array.from({ length: 4 * 64 }, () => r() * 2 - 1), dims: [1, 4, 8, 8] },
  }));
}

/** Everything a report says but how long it took. */
function contents(report: QuantAnalysisReport) {
  const { metric, model, layers, findings, configurations } = report;
  return { metric, model, layers, findings, configurations };
}

async function startWorkers(url: string, queue: string, count: number): Promise<WorkerProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startWorkerProcess({
        redis: url,
        queue,
        moduleFolders: [fixtures],
        threads: 1,
        // Short enough for a quick retry, long enough for a busy machine's event loop.
        lockDuration: 5000,
        stalledInterval: 1000,
      }),
    ),
  );
}

describe.skipIf(missing !== undefined)('analyses and AMP searches on a BullMQ queue (real redis-server)', () => {
  let redis: TestRedis;
  let workers: WorkerProcess[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quantsim-analysis-queue-'));
  const builder = quant(freeBatchModel()).defaults({ perChannel: false });
  // Six samples in batches of four: one stacked run of four and one of two per configuration.
  const options = { calibration: samples(8, 1), evaluation: samples(6, 2), batchSize: 4 };

  beforeAll(async () => {
    redis = await startRedis();
    workers = await startWorkers(redis.url, 'analysis', 2);
  }, SLOW);
  afterAll(async () => {
    for (const w of workers)
      if (w.child.exitCode !== null) console.log(`worker ${w.child.pid} exited on its own (${w.child.exitCode}):\n${w.output()}`);
    await Promise.all(workers.map((w) => w.stop(5000)));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'gives the in-process report (layers, scores, findings) exactly, scored by two worker processes',
    async () => {
      const single = await analyze(builder, options);
      const queued = await analyzeOnQueue(builder, { ...options, redis: redis.url, queue: 'analysis', timeout: 120_000 });
      expect(single.findings.some((f) => f.kind === 'per-channel-range' && f.layer === 'conv2')).toBe(true);
      expect(single.layers.every((l) => Number.isFinite(l.onlyThisQuantized))).toBe(true);
      expect(contents(queued)).toEqual(contents(single));
    },
    SLOW,
  );

  it(
    'scores a metric module on the workers as analyze scores the same function, and refuses a closure',
    async () => {
      const module = path.join(fixtures, 'metric.mjs');
      const single = await analyze(builder, { ...options, metric, better: 'higher', metricName: 'mean output' });
      const queued = await analyzeOnQueue(builder, {
        ...options,
        metricModule: module,
        better: 'higher',
        metricName: 'mean output',
        redis: redis.url,
        queue: 'analysis',
        timeout: 120_000,
      });
      expect(single.metric.name).toBe('mean output');
      expect(contents(queued)).toEqual(contents(single));
      const closure = { ...options, metric, redis: redis.url, queue: 'analysis' } as unknown as Parameters<
        typeof analyzeOnQueue
      >[1];
      await expect(analyzeOnQueue(builder, closure)).rejects.toThrow(
        /`metric` is a function, which cannot travel to queue workers/,
      );
    },
    SLOW,
  );

  it(
    'fails the run naming the configuration when a job fails three times (a metric module outside the workers’ folders)',
    async () => {
      const outside = path.join(dir, 'outside');
      mkdirSync(outside);
      copyFileSync(path.join(fixtures, 'metric.mjs'), path.join(outside, 'metric.mjs'));
      const err = await analyzeOnQueue(builder, {
        ...options,
        metricModule: path.join(outside, 'metric.mjs'),
        redis: redis.url,
        queue: 'analysis',
        timeout: 120_000,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueError);
      // The four whole-model configurations go out together and all fail; the first seen is named.
      const steps = ['all quantized', 'weights only', 'activations only', 'all at 16 bits'];
      const named = (err as QueueError).configuration;
      expect(steps[named?.index ?? -1]).toBe(named?.step);
      expect((err as Error).message).toMatch(
        /configuration [0-3] \('(all quantized|weights only|activations only|all at 16 bits)'\) failed 3 times; last error: .*outside the folders this worker may read/,
      );
    },
    SLOW,
  );

  it('refuses a configuration job that is not valid, at its first attempt', async () => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('analysis', { connection });
    try {
      const job = await queue.add('evaluate-configuration', { version: 1, runId: 'no run', index: -1 }, { attempts: 3 });
      let state = '';
      for (let i = 0; i < 300 && state !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = await job.getState();
      }
      const failed = await queue.getJob(job.id as string);
      expect(state).toBe('failed');
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toMatch(/job \S+ is not a valid configuration: .*runId/s);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it(
    'gives the in-process AMP front, plan and scores, with the evaluate module run by the workers',
    async () => {
      const detector = quant(buildDetectorHead());
      const candidates: AmpCandidate[] = [
        { activations: 4, params: 4 },
        { activations: 8, params: 8 },
      ];
      const amp = { calibration: detectorImages(8), better: 'higher' as const, allowedDrop: 3, candidates };
      const single = await autoMixedPrecision(detector, { ...amp, evaluate });
      const queued = await autoMixedPrecisionOnQueue(detector, {
        ...amp,
        evaluateModule: path.join(fixtures, 'amp-evaluate.ts'),
        redis: redis.url,
        queue: 'analysis',
        timeout: 120_000,
      });
      try {
        expect(single.front.length).toBeGreaterThan(1);
        expect(queued.front).toEqual(single.front);
        const plan = (r: typeof single) => r.plan.map((e) => [e.group, candidateName(e.candidate)]);
        expect(plan(queued)).toEqual(plan(single));
        expect([queued.float, queued.target, queued.score, queued.cost, queued.reached]).toEqual([
          single.float,
          single.target,
          single.score,
          single.cost,
          single.reached,
        ]);
      } finally {
        await Promise.all([single.sim.release(), queued.sim.release()]);
      }
    },
    SLOW,
  );

  it(
    'scores again, on the other worker, the configuration of a worker SIGKILLed in the middle of it; the report is unchanged',
    async () => {
      const module = path.join(fixtures, 'metric.mjs');
      const single = await analyze(builder, { ...options, metric, better: 'higher' });
      // Two workers of their own, whose first metric call pauses in the one that makes the marker first.
      const marker = path.join(dir, 'paused');
      process.env.QUANTSIM_TEST_PAUSE = marker;
      let pair: WorkerProcess[];
      try {
        pair = await startWorkers(redis.url, 'kill', 2);
      } finally {
        delete process.env.QUANTSIM_TEST_PAUSE;
      }
      let killed: WorkerProcess | undefined;
      const watch = (async () => {
        for (let i = 0; i < 1200 && !killed; i++) {
          if (existsSync(marker)) {
            const pid = Number(readFileSync(marker, 'utf8'));
            killed = pair.find((w) => w.child.pid === pid);
            killed?.child.kill('SIGKILL');
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      try {
        const queued = await analyzeOnQueue(builder, {
          ...options,
          metricModule: module,
          better: 'higher',
          redis: redis.url,
          queue: 'kill',
          timeout: 200_000,
        });
        await watch;
        expect(killed).toBeDefined();
        // The exit is reported asynchronously; wait for it, at most 10 s.
        for (let i = 0; i < 100 && killed?.child.signalCode === null; i++) await new Promise((r) => setTimeout(r, 100));
        expect(killed?.child.signalCode).toBe('SIGKILL');
        expect(contents(queued)).toEqual(contents(single));
      } finally {
        await Promise.all(pair.map((w) => w.stop(5000)));
      }
    },
    SLOW,
  );
});
