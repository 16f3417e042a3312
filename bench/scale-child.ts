// Child process of bench/scale.ts: calibrates one workload with one scheme over N samples on W
// worker threads, and prints {"seconds", "maxRssMiB", "perWorkerMiB", "used"} as its last line.
import { quant, type ThreadPoolReport } from 'quantsim';
import { samples, WORKLOADS } from './workloads.js';

const [workloadName = 'recognizer', scheme = 'minmax', count = '16', workers = '1'] = process.argv.slice(2);
const workload = WORKLOADS[workloadName];
if (!workload) throw new Error(`unknown workload ${workloadName}; known: ${Object.keys(WORKLOADS).join(', ')}`);
let report: ThreadPoolReport | undefined;
// The statistics pass alone (bias correction, on by default, runs once after the merge).
const builder = quant(workload.model).scheme(scheme).biasCorrection(false);
await builder.plan();
const started = performance.now();
const sim = await builder.calibrate(() => samples(workload, Number(count)), {
  workers: workers === 'auto' ? 'auto' : Number(workers),
  onWorkers: (r) => {
    report = r;
  },
});
const seconds = (performance.now() - started) / 1000;
await sim.release();
// maxRSS is in KiB on Linux; worker threads are part of this process.
console.log(
  JSON.stringify({
    seconds,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    perWorkerMiB: report ? report.perWorkerBytes / 2 ** 20 : undefined,
    used: report?.used ?? 1,
  }),
);
