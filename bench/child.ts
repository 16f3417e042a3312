// One whole-process measurement for bench/run.ts: starts, loads the model, runs plain float
// inference (`plain`) or calibrates with a scheme over N samples, and prints
// {"maxRssMiB": …} as its last line. The parent times the process from spawn to exit.
//
//   tsx --conditions=@quantsim/source bench/child.ts plain|<scheme> <workload> <samples>
import * as ort from 'onnxruntime-node';
import { quant } from 'quantsim';
import { samples, WORKLOADS } from './workloads.js';

const [what = 'plain', workloadName = 'recognizer', count = '100'] = process.argv.slice(2);
const workload = WORKLOADS[workloadName];
if (!workload) throw new Error(`unknown workload ${workloadName}; known: ${Object.keys(WORKLOADS).join(', ')}`);
if (what === 'plain') {
  const session = await ort.InferenceSession.create(workload.model, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  for (const feeds of samples(workload, Number(count))) {
    const x = feeds.x as { data: Float32Array; dims: number[] };
    await session.run({ [session.inputNames[0] as string]: new ort.Tensor('float32', x.data, x.dims) });
  }
  await session.release();
} else {
  // The statistics pass alone: the default bias correction (one more pass over 16 samples) is a
  // separate step, measured in docs/ptq.md.
  const sim = await quant(workload.model)
    .scheme(what)
    .biasCorrection(false)
    .calibrate(() => samples(workload, Number(count)));
  await sim.release();
}
// maxRSS is in KiB on Linux.
console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
