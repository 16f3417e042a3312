// `pnpm bench:analyze-floor`: what one evaluation run costs on the PaddleOCR recognizer, per
// sample, for the analyzer's time budget (issue 11): the float model, the plain simulated model
// (`sim.run`) and the analyzer's switchable simulation (plan, W16A16 and per-channel variants)
// under the settings the analysis uses. Batches of BENCH_BATCH (default 8, as analyze() stacks
// them), BENCH_RUNS (default 4) timed batches after one warm-up, two rounds, the second printed.
// It ends with the lower bound that these costs put on a full analysis: every layer's "all but
// this layer" configuration over 32 samples, at sim.run's cost, shared by the cores.
import os from 'node:os';
import { createSwitchableSim, quant } from 'quantsim';
import { image, samples, WORKLOADS } from './workloads.js';

const workload = WORKLOADS.recognizer as (typeof WORKLOADS)[string];
const batch = Number(process.env.BENCH_BATCH ?? 8);
const runs = Number(process.env.BENCH_RUNS ?? 4);
console.log(
  `analyzer floor bench: ${new Date().toISOString()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const builder = quant(workload.model).defaults({ perChannel: false }).biasCorrection(false);
const stats = await builder.collectStats(() => samples(workload, 8));
const sim = await builder.fromStats(stats);
const switchable = await createSwitchableSim([
  { name: 'plan', sim },
  { name: 'W16A16', sim: await builder.activations(16).params(16).fromStats(stats) },
  { name: 'per-channel', sim: await builder.perChannel().fromStats(stats) },
]);
const first = workload.sample(0) as Record<string, { data: Float32Array; dims: number[] }>;
const [input, one] = Object.entries(first)[0] as [string, { data: Float32Array; dims: number[] }];
const [, c = 1, h = 1, w = 1] = one.dims;
const feeds = (r: number) => {
  const data = new Float32Array(batch * one.data.length);
  for (let i = 0; i < batch; i++) data.set(image(c, h, w, r * batch + i), i * one.data.length);
  return { [input]: { data, dims: [batch, c, h, w] } };
};
const units = [...new Set(switchable.groups.map((g) => g.unit))];
const middle = units[Math.floor(units.length / 2)] as string;
const cases: [string, (f: ReturnType<typeof feeds>) => Promise<unknown>][] = [
  ['float', (f) => sim.runFloat(f)],
  ['sim.run (plain simulated model)', (f) => sim.run(f)],
  [
    'switchable: all quantized',
    (f) =>
      switchable.run(
        f,
        switchable.setting(() => 0),
      ),
  ],
  [
    'switchable: all float',
    (f) =>
      switchable.run(
        f,
        switchable.setting(() => undefined),
      ),
  ],
  [
    'switchable: only one layer',
    (f) =>
      switchable.run(
        f,
        switchable.setting((g) => (g.unit === middle ? 0 : undefined)),
      ),
  ],
  [
    'switchable: all but one layer',
    (f) =>
      switchable.run(
        f,
        switchable.setting((g) => (g.unit === middle ? undefined : 0)),
      ),
  ],
];
const perSample = new Map<string, number>();
for (let round = 0; round < 2; round++)
  for (const [label, run] of cases) {
    await run(feeds(0));
    const started = performance.now();
    for (let r = 0; r < runs; r++) await run(feeds(r + 1));
    perSample.set(label, (performance.now() - started) / (runs * batch));
  }
for (const [label, ms] of perSample) console.log(`  ${label}: ${ms.toFixed(1)} ms per sample (batch ${batch})`);
const cores = os.availableParallelism();
const simMs = perSample.get('sim.run (plain simulated model)') as number;
const floatMs = perSample.get('float') as number;
console.log(
  `\n${units.length} layers: "all but this layer" for each over 32 samples on ${cores} cores takes at least ${((units.length * 32 * simMs) / cores / 1000).toFixed(0)} s at sim.run's cost (${((units.length * 32 * floatMs) / cores / 1000).toFixed(0)} s even at float speed); target of the whole analysis: 60 s`,
);
await switchable.release();
await sim.release();
