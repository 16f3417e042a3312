// The histogram schemes' searches (tf-enhanced v2 and v1, mse) on the recognizer's real activation
// histograms: the frozen reference searches (packages/plugins/test/reference/) against the current
// ones (wall-clock and CPU time, reference → now), medians of several repeats, and a check that
// every encoding is the same, bit for bit.
//
//   pnpm bench:scheme-search [samples = 4] [repeats = 5]
//
// The statistics (one calibration pass over `samples` recognizer samples) are gathered once and
// kept in the temporary folder; only the searches are timed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CpuBackend } from '@quantsim/backends';
import { type EncodingScheme, type GridSpec, openStatisticsJob, quant, type TensorStats } from 'quantsim';
import { mseScheme, tfEnhancedScheme } from '../packages/plugins/src/index.js';
import { referenceMseScheme } from '../packages/plugins/test/reference/mse.js';
import { referenceTfEnhancedScheme } from '../packages/plugins/test/reference/tf-enhanced.js';
import { REAL_MODELS } from '../test-support/models.js';
import { recognizerSamples } from '../test-support/recognizer-samples.js';

const samples = Number(process.argv[2] ?? 4);
const repeats = Number(process.argv[3] ?? 5);

async function recognizerStats(): Promise<TensorStats[]> {
  const cache = path.join(os.tmpdir(), `quantsim-scheme-search-recognizer-${samples}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as TensorStats[];
  const started = performance.now();
  const job = await quant(REAL_MODELS.ocrRecognizer).scheme('tf-enhanced').statisticsJob();
  const runner = await openStatisticsJob(job, new CpuBackend());
  const stats = await runner.run(recognizerSamples(samples));
  const histograms = Object.values(stats.tensors)
    .filter((s) => s.histogram !== undefined)
    .map((s) => ({ ...s, histogram: { ...s.histogram, counts: Array.from(s.histogram?.counts ?? []) } }));
  writeFileSync(cache, JSON.stringify(histograms));
  console.log(`statistics of ${samples} samples gathered in ${((performance.now() - started) / 1000).toFixed(1)} s (${cache})`);
  return histograms as TensorStats[];
}

const spec = (more: Partial<GridSpec>): GridSpec => ({
  bitwidth: 8,
  dtype: 'int',
  symmetric: false,
  strictSymmetric: false,
  unsignedSymmetric: false,
  schemeOptions: {},
  ...more,
});

const CASES: readonly { name: string; fast: EncodingScheme; reference: EncodingScheme; spec: GridSpec }[] = [
  { name: 'tf-enhanced v2', fast: tfEnhancedScheme, reference: referenceTfEnhancedScheme, spec: spec({}) },
  {
    name: 'tf-enhanced v1',
    fast: tfEnhancedScheme,
    reference: referenceTfEnhancedScheme,
    spec: spec({ schemeOptions: { variant: 'v1' } }),
  },
  { name: 'mse', fast: mseScheme, reference: referenceMseScheme, spec: spec({}) },
  {
    name: 'tf-enhanced v2 symmetric',
    fast: tfEnhancedScheme,
    reference: referenceTfEnhancedScheme,
    spec: spec({ symmetric: true }),
  },
  { name: 'mse symmetric', fast: mseScheme, reference: referenceMseScheme, spec: spec({ symmetric: true }) },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Wall-clock and CPU milliseconds of one pass of `scheme` over every histogram. */
function timeAll(scheme: EncodingScheme, stats: readonly TensorStats[], gridSpec: GridSpec): { wall: number; cpu: number } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (const s of stats) scheme.compute(s, gridSpec);
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - started, cpu: (used.user + used.system) / 1000 };
}

const stats = await recognizerStats();
console.log(
  `recognizer, ${stats.length} activation histograms from ${samples} samples; 8-bit grids; medians of ${repeats} repeats; load ${os.loadavg()[0]?.toFixed(2)}`,
);
for (const c of CASES) {
  for (const s of stats) {
    const a = c.fast.compute(s, c.spec);
    const b = c.reference.compute(s, c.spec);
    if (!(Object.is(a.min, b.min) && Object.is(a.max, b.max) && Object.is(a.scale, b.scale) && Object.is(a.offset, b.offset)))
      throw new Error(`${c.name}: the encodings differ: ${JSON.stringify(a)} instead of ${JSON.stringify(b)}`);
  }
  const old: { wall: number; cpu: number }[] = [];
  const now: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < repeats; r++) {
    old.push(timeAll(c.reference, stats, c.spec));
    now.push(timeAll(c.fast, stats, c.spec));
  }
  const cells = (['wall', 'cpu'] as const).map((k) => {
    const o = median(old.map((t) => t[k]));
    const n = median(now.map((t) => t[k]));
    return `${k} ${o.toFixed(0).padStart(5)} → ${n.toFixed(0).padStart(4)} ms ${(o / n).toFixed(1).padStart(5)}×`;
  });
  console.log(`${c.name.padEnd(26)} ${cells.join('   ')}`);
}
console.log(`load ${os.loadavg()[0]?.toFixed(2)} (1-minute average, ${os.cpus().length} cores)`);
