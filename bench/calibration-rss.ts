// Child process for memory measurements: calibrates one workload with one scheme over N samples
// (streamed from a generator) and prints {"maxRssMiB": …, "seconds": …, "sampleMiB": …} as its
// last line. sampleMiB is one sample's calibrated activations as float32 (what a per-sample leak
// of activations would keep), counted from the statistics themselves.
import { quant } from 'quantsim';
import { samples, WORKLOADS } from './workloads.js';

const [workloadName = 'recognizer', scheme = 'minmax', count = '16'] = process.argv.slice(2);
const workload = WORKLOADS[workloadName];
if (!workload) throw new Error(`unknown workload ${workloadName}; known: ${Object.keys(WORKLOADS).join(', ')}`);
const started = performance.now();
// What `.calibrate()` does when no post-training step is set, with the statistics kept.
const builder = quant(workload.model).scheme(scheme);
const stats = await builder.collectStats(() => samples(workload, Number(count)));
const sim = await builder.fromStats(stats);
await sim.release();
const seconds = (performance.now() - started) / 1000;
let elements = 0;
for (const t of Object.values(stats.tensors)) elements += t.count + t.nonFinite;
const sampleMiB = (elements * 4) / Math.max(1, stats.samples) / 2 ** 20;
// maxRSS is in KiB on Linux.
console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024, seconds, sampleMiB }));
