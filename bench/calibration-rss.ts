// Child process for memory measurements: calibrates one workload with one scheme over N samples
// (streamed from a generator) and prints {"maxRssMiB": …, "seconds": …} as its last line.
import { quant } from 'quantsim';
import { samples, WORKLOADS } from './workloads.js';

const [workloadName = 'recognizer', scheme = 'minmax', count = '16'] = process.argv.slice(2);
const workload = WORKLOADS[workloadName];
if (!workload) throw new Error(`unknown workload ${workloadName}; known: ${Object.keys(WORKLOADS).join(', ')}`);
const started = performance.now();
const sim = await quant(workload.model)
  .scheme(scheme)
  .calibrate(() => samples(workload, Number(count)));
await sim.release();
const seconds = (performance.now() - started) / 1000;
// maxRSS is in KiB on Linux.
console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024, seconds }));
