// `pnpm bench:scale-queue`: calibration over a BullMQ queue on a redis-server of its own
// (127.0.0.1, free port), with 1 and 2 local worker processes: samples/s, including the
// workers' start. Environment: BENCH_SAMPLES (default 16), BENCH_SCHEMES (default minmax),
// BENCH_WORKERS (default 1,2), BENCH_SHARD (samples per shard, default 4).
import os from 'node:os';
import { calibrateOnQueue } from '@quantsim/distributed';
import { quant } from 'quantsim';
import { redisMissing, startRedis } from '../packages/distributed/test/redis-server.js';
import { samples, WORKLOADS } from './workloads.js';

const missing = redisMissing();
if (missing) {
  console.log(`bench:scale-queue skipped: ${missing}`);
  process.exit(0);
}
const count = Number(process.env.BENCH_SAMPLES ?? 16);
const schemes = (process.env.BENCH_SCHEMES ?? 'minmax').split(',');
const workers = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const shardSize = Number(process.env.BENCH_SHARD ?? 4);
const w = WORKLOADS.recognizer as (typeof WORKLOADS)[string];
console.log(
  `quantsim bench:scale-queue: ${os.availableParallelism()} cores, load ${os.loadavg()[0]?.toFixed(1)}, ${count} samples, shards of ${shardSize}`,
);
const redis = await startRedis();
try {
  for (const scheme of schemes)
    for (const n of workers) {
      const started = performance.now();
      const sim = await calibrateOnQueue(quant(w.model).scheme(scheme), [...samples(w, count)], {
        redis: redis.url,
        queue: `bench-${scheme}-${n}`,
        workers: n,
        shardSize,
      });
      const seconds = (performance.now() - started) / 1000;
      await sim.release();
      console.log(`| recognizer | ${scheme} | ${n} | ${seconds.toFixed(1)} | ${(count / seconds).toFixed(2)} |`);
    }
} finally {
  await redis.stop();
}
