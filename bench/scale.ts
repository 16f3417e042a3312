// `pnpm bench:scale`: calibration throughput (samples/s) and peak RSS on 1, 2 and all cores'
// worker threads (`calibrate(data, { workers })`), for minmax and tf-enhanced, each run in a
// fresh process. Environment: BENCH_SAMPLES (default 16), BENCH_MODELS (default recognizer),
// BENCH_SCHEMES (default minmax,tf-enhanced), BENCH_WORKERS (default 1,2 and the core count).
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const count = Number(process.env.BENCH_SAMPLES ?? 16);
const models = (process.env.BENCH_MODELS ?? 'recognizer').split(',');
const schemes = (process.env.BENCH_SCHEMES ?? 'minmax,tf-enhanced').split(',');
const cores = os.availableParallelism();
const workers = (process.env.BENCH_WORKERS ?? [...new Set([1, 2, cores])].join(',')).split(',').map(Number);

console.log(
  `quantsim bench:scale: ${new Date().toISOString().slice(0, 10)}, ${cores} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os.loadavg()[0]?.toFixed(1)}, Node ${process.version}, ${count} samples`,
);
const rows = [
  '| model | scheme | workers | seconds | samples/s | speed-up | peak RSS MiB | per worker MiB |',
  '|---|---|---|---|---|---|---|---|',
];
for (const model of models)
  for (const scheme of schemes) {
    let base: number | undefined;
    for (const w of workers) {
      const tsx = path.join(here, '..', 'node_modules', '.bin', 'tsx');
      const { stdout } = await run(
        tsx,
        ['--conditions=@quantsim/source', path.join(here, 'scale-child.ts'), model, scheme, String(count), String(w)],
        { maxBuffer: 1 << 20, cwd: path.join(here, '..') },
      );
      const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        seconds: number;
        maxRssMiB: number;
        perWorkerMiB?: number;
        used: number;
      };
      const rate = count / r.seconds;
      base ??= rate;
      rows.push(
        `| ${model} | ${scheme} | ${r.used} | ${r.seconds.toFixed(1)} | ${rate.toFixed(2)} | ${(rate / base).toFixed(2)} | ${r.maxRssMiB.toFixed(0)} | ${r.perWorkerMiB?.toFixed(0) ?? '–'} |`,
      );
      console.log(rows.at(-1));
    }
  }
console.log(`\n${rows.join('\n')}`);
