import { quant } from 'quantsim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { calibrateOnQueue, QueueError, runWorker } from '../src/index.js';
import { redisMissing, startTlsRedis, type TestRedis } from './redis-server.js';

// One local worker process, started from sources, takes seconds to a minute on a busy machine.
const SLOW = 240_000;
/** The probe's connect timeout (redis-connection.ts): no failure may take longer than this, plus slack. */
const CONNECT_TIMEOUT_MS = 5000;

describe('the BullMQ queue over TLS (rediss://, real redis-server with its own CA)', () => {
  let redis: TestRedis | undefined;
  let unavailable: string | undefined = redisMissing();

  beforeAll(async () => {
    if (unavailable) return;
    const started = await startTlsRedis();
    if (typeof started === 'string') unavailable = started;
    else redis = started;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** The server, or a skip that prints why there is none. */
  const server = (skip: (note?: string) => never): TestRedis & { tls: NonNullable<TestRedis['tls']> } => {
    if (!redis?.tls) {
      console.log(`skipping the TLS queue tests: ${unavailable}`);
      return skip(unavailable);
    }
    return redis as TestRedis & { tls: NonNullable<TestRedis['tls']> };
  };

  it(
    'calibrates over rediss:// with the CA given (a local worker process gets it as --tls-ca), bit for bit as in-process',
    async (ctx) => {
      const { url, tls } = server(ctx.skip);
      expect(url).toMatch(/^rediss:\/\/:[^@]+@127\.0\.0\.1:\d+$/);
      const b = quant(buildDetectorHead()).scheme('minmax');
      const images = detectorImages(6);
      const single = await b.calibrate(images);
      const queued = await calibrateOnQueue(b, images, {
        redis: url,
        tls: { caFile: tls.caFile },
        queue: 'tls',
        workers: 1,
        shardSize: 2,
        timeout: SLOW,
      });
      expect(queued.encodings.size).toBeGreaterThan(5);
      expect([...queued.encodings]).toEqual([...single.encodings]);
      await Promise.all([single.release(), queued.release()]);
    },
    SLOW,
  );

  it('refuses, quickly and clearly, a plain client on the TLS port, an unknown CA, and TLS files on redis://', async (ctx) => {
    const { url, tls, port } = server(ctx.skip);
    const plain = url.replace(/^rediss:/, 'redis:');
    const refusal = async (attempt: Promise<unknown>) => {
      const started = performance.now();
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(performance.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS + 2000);
      expect(error).toBeInstanceOf(QueueError);
      return error as QueueError;
    };

    // redis:// on a TLS port: the server drops the connection; the error says to use rediss://.
    const worker = await refusal(runWorker({ redis: plain }));
    expect(worker.message).toMatch(
      new RegExp(`Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/? closed the connection before answering`),
    );
    expect(worker.hint).toMatch(/use a rediss:\/\/ URL/);
    expect(worker.message).not.toMatch(/test-secret/);
    const coordinator = await refusal(calibrateOnQueue(quant(buildDetectorHead()), detectorImages(2), { redis: plain }));
    expect(coordinator.message).toMatch(/closed the connection before answering/);

    // rediss:// without the test CA: Node does not trust the server's certificate.
    const untrusted = await refusal(runWorker({ redis: url }));
    expect(untrusted.message).toMatch(
      /the server's TLS certificate was not accepted \(self[- ]signed certificate in certificate chain\)/,
    );
    expect(untrusted.hint).toMatch(/caFile.*--tls-ca/);

    // TLS files with a redis:// URL, and a certificate without its key: refused before connecting.
    await expect(runWorker({ redis: plain, tls: { caFile: tls.caFile } })).rejects.toThrow(/does not use TLS/);
    await expect(runWorker({ redis: url, tls: { caFile: tls.caFile, certFile: tls.certFile } })).rejects.toThrow(
      /needs both its certificate file and its key file/,
    );
    await expect(runWorker({ redis: url, tls: { caFile: `${tls.caFile}.missing` } })).rejects.toThrow(
      /Cannot read the TLS CA file '.*ca\.crt\.missing'/,
    );
  }, 30_000);
});
