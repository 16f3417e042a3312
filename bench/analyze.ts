// `pnpm bench:analyze`: the full quant analysis of the PaddleOCR v4 recognizer (per-tensor
// weights, so that its known bad Conv shows), on the shipped demo lines: 32 calibration and
// BENCH_EVAL (default 32) evaluation samples, default metric (output SQNR). Prints the time,
// the number of configurations scored, the worst layers and the findings. BENCH_WORKERS (default
// 1) shares each configuration's runs over that many worker threads.
import os from 'node:os';
import { loadOcrLines } from '@quantsim/data';
import { analyze, quant } from 'quantsim';
import { REAL_MODELS } from '../test-support/models.js';

const evalCount = Number(process.env.BENCH_EVAL ?? 32);
const workers = process.env.BENCH_WORKERS === 'auto' ? 'auto' : Number(process.env.BENCH_WORKERS ?? 1);
const calibration = loadOcrLines('calibration', { limit: 32 }).map((s) => ({ x: s.input }));
const evaluation = loadOcrLines('evaluation', { limit: evalCount }).map((s) => ({ x: s.input }));
console.log(
  `quantsim analyze bench: ${new Date().toISOString()}, workers ${workers}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
// BENCH_MAX_SECONDS stops the analysis there and extrapolates from the configurations measured.
const maxSeconds = Number(process.env.BENCH_MAX_SECONDS ?? 0);
const controller = new AbortController();
const timer = maxSeconds > 0 ? setTimeout(() => controller.abort(), maxSeconds * 1000) : undefined;
const started = performance.now();
let lastLog = 0;
let firstConfigAt = 0;
let progress = { done: 0, total: 0 };
const report = await analyze(quant(REAL_MODELS.ocrRecognizer).defaults({ perChannel: false }), {
  calibration,
  evaluation,
  workers,
  signal: controller.signal,
  onProgress: (p) => {
    if (p.done === 0 && firstConfigAt === 0) firstConfigAt = performance.now();
    progress = p;
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      console.log(`  ${p.done}/${p.total} ${p.step} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  },
}).catch((e: { code?: string }) => {
  if (e.code !== 'ABORTED') throw e;
  const setup = (firstConfigAt - started) / 1000;
  const perConfig = (performance.now() - firstConfigAt) / 1000 / Math.max(1, progress.done);
  console.log(
    `\nstopped after ${maxSeconds} s: setup (calibration, encodings, switchable session, float reference) ${setup.toFixed(1)} s; ${progress.done} of ${progress.total} configurations at ${perConfig.toFixed(2)} s each; extrapolated total ${(setup + perConfig * progress.total).toFixed(0)} s`,
  );
  process.exit(0);
});
clearTimeout(timer);
const seconds = (performance.now() - started) / 1000;
console.log(
  `\nrecognizer, ${evaluation.length} evaluation samples: ${seconds.toFixed(1)} s for ${report.configurations} configurations (target ≤ 60 s)`,
);
console.log(
  `model: quantized ${report.model.quantized.toFixed(2)} dB, weights only ${report.model.weightsOnly.toFixed(2)} dB, activations only ${report.model.activationsOnly.toFixed(2)} dB, all 16-bit ${report.model.all16.toFixed(2)} dB`,
);
for (const l of report.layers.slice(0, 5))
  console.log(
    `  ${l.layer} (${l.opType}): only this ${l.onlyThisQuantized.toFixed(2)} dB, weights only ${l.weightsOnly?.toFixed(2) ?? '-'} dB`,
  );
for (const f of report.findings.slice(0, 8)) console.log(`  [${f.kind}] ${f.layer}: ${f.detail} -> ${f.fix}`);
if (process.env.BENCH_HTML) await report.writeHtml(process.env.BENCH_HTML);
