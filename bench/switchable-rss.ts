// What evaluation threads cost in memory: the analyzer's switchable simulation of one workload
// (plan, W16A16 and per-channel variants, per-tensor weights as in bench:analyze) on W threads,
// RUNS runs of batches of BATCH at once. Prints, as its last line, JSON with the process's RSS
// before the switchable simulation is made, once it is made (with one thread, its session is
// opened then; with more, no thread starts before the first run), after the runs, the growth
// from the first to the last (`switchableMiB`: model bytes and every session), the peak, and the
// first thread's measured cost (`onWorkers`).
// Usage: tsx --conditions=@quantsim/source bench/switchable-rss.ts [workload] [workers] [runs] [batch]
import { createSwitchableSim, quant, type ThreadPoolReport } from 'quantsim';
import { image, samples, WORKLOADS } from './workloads.js';

const [workloadName = 'recognizer', workers = '1', runs = '8', batch = '8'] = process.argv.slice(2);
const workload = WORKLOADS[workloadName];
if (!workload) throw new Error(`unknown workload ${workloadName}; known: ${Object.keys(WORKLOADS).join(', ')}`);
const builder = quant(workload.model).defaults({ perChannel: false }).biasCorrection(false);
const stats = await builder.collectStats(() => samples(workload, 8));
const variants = [
  { name: 'plan', sim: await builder.fromStats(stats) },
  { name: 'W16A16', sim: await builder.activations(16).params(16).fromStats(stats) },
  { name: 'per-channel', sim: await builder.perChannel().fromStats(stats) },
];
let report: ThreadPoolReport | undefined;
globalThis.gc?.();
const rssVariants = process.memoryUsage.rss();
const switchable = await createSwitchableSim(variants, {
  workers: workers === 'auto' ? 'auto' : Number(workers),
  onWorkers: (r) => {
    report = r;
  },
});
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
// One stacked batch: the sample's dims with the batch axis set to `batch`.
const first = workload.sample(0) as Record<string, { data: Float32Array; dims: number[] }>;
const [name, one] = Object.entries(first)[0] as [string, { data: Float32Array; dims: number[] }];
const [, c = 1, h = 1, w = 1] = one.dims;
const n = Number(batch);
const feeds = (r: number) => {
  const data = new Float32Array(n * one.data.length);
  for (let i = 0; i < n; i++) data.set(image(c, h, w, r * n + i), i * one.data.length);
  return { [name]: { data, dims: [n, c, h, w] } };
};
const setting = switchable.setting(() => 0);
const rssBuilt = process.memoryUsage.rss();
const started = performance.now();
const k = switchable.concurrency;
const lanes = Array.from({ length: k }, async (_, lane) => {
  for (let r = lane; r < Number(runs); r += k) await switchable.run(feeds(r), setting);
});
await Promise.all(lanes);
const seconds = (performance.now() - started) / 1000;
const rssAfter = process.memoryUsage.rss();
console.log(
  JSON.stringify({
    workload: workloadName,
    workers,
    used: report?.used ?? 1,
    switchableModelMiB: mib(switchable.switchable.model.toBytes({ inlineExternal: true }).byteLength),
    rssVariantsMiB: mib(rssVariants),
    rssBuiltMiB: mib(rssBuilt),
    rssAfterMiB: mib(rssAfter),
    switchableMiB: mib(rssAfter - rssVariants),
    firstThreadMiB: report ? mib(report.perWorkerBytes) : undefined,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    seconds,
  }),
);
await switchable.release();
