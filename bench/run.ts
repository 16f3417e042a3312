// `pnpm bench`: calibration speed side by side in one run, whole processes, as issue 15 measures it.
//
// For each model, each repeat runs, one after the other in fresh processes over the same samples:
// plain float inference (node + onnxruntime-node: start, load, one run per sample, exit), each
// quantsim scheme (start, load, calibrate, exit; bench/child.ts), and the peer, ONNX Runtime's
// Python static quantizer with each calibration method (bench/peer.py). Wall time is measured from
// spawn to exit; the table has medians, ratios to plain inference and peak RSS (medians too).
//
// Environment (to keep a run short):
//   BENCH_MODELS   classifier,recognizer (default); detector too
//   BENCH_SCHEMES  minmax,tf-enhanced,percentile,mse,entropy (default)
//   BENCH_PEER     MinMax,Percentile,Entropy (default); 0 skips the peer
//   BENCH_SAMPLES  100 (default)      BENCH_REPEATS  3 (default)
//   BENCH_PYTHON   a Python with onnxruntime, onnx and numpy; otherwise /tmp/ortvenv is used, and
//                  made (python3 -m venv, pip install) when missing; without python3 the peer is skipped
//   BENCH_FLAT=1   also the peak RSS of 16 against 256 samples (memory flat in the sample count)
//   BENCH_FLOOR=0  skips bench/histogram-floor.ts (what exact histograms cost a sample, printed last)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrationRss, median } from './measure.js';
import { WORKLOADS } from './workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const list = (v: string | undefined, d: string) => (v ?? d).split(',').filter((x) => x !== '' && x !== '0');
const count = Number(process.env.BENCH_SAMPLES ?? 100);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const models = list(process.env.BENCH_MODELS, 'classifier,recognizer');
const schemes = list(process.env.BENCH_SCHEMES, 'minmax,tf-enhanced,percentile,mse,entropy');
let peerMethods = list(process.env.BENCH_PEER, 'MinMax,Percentile,Entropy');
const HISTOGRAM = new Set(['tf-enhanced', 'percentile', 'mse', 'entropy']);
const PEER_OF: Record<string, string> = { minmax: 'MinMax', percentile: 'Percentile', entropy: 'Entropy' };

/** A Python that can import onnxruntime.quantization, or why there is none. */
function findPython(): { python?: string; reason?: string } {
  const works = (py: string) => {
    try {
      execFileSync(py, ['-c', 'import onnxruntime.quantization, onnx, numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (process.env.BENCH_PYTHON) {
    return works(process.env.BENCH_PYTHON)
      ? { python: process.env.BENCH_PYTHON }
      : { reason: `BENCH_PYTHON=${process.env.BENCH_PYTHON} cannot import onnxruntime.quantization, onnx and numpy` };
  }
  const venv = path.join(os.tmpdir(), 'ortvenv');
  const py = path.join(venv, 'bin', 'python');
  if (existsSync(py) && works(py)) return { python: py };
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
  } catch {
    return { reason: 'python3 is not installed' };
  }
  try {
    console.log(`making a venv for the peer: python3 -m venv ${venv} && pip install onnxruntime onnx numpy`);
    if (!existsSync(py)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    // One retry, short timeouts: where only a local index answers (pip.conf's extra-index-url), the
    // default index fails fast instead of retrying each package five times.
    execFileSync(py, ['-m', 'pip', 'install', '-q', '--retries', '1', '--timeout', '15', 'onnxruntime', 'onnx', 'numpy'], {
      stdio: 'inherit',
    });
  } catch (error) {
    return { reason: `making the venv failed (${(error as Error).message.split('\n')[0]})` };
  }
  return works(py) ? { python: py } : { reason: `${py} cannot import onnxruntime.quantization after pip install` };
}

/** Runs a process to completion: wall seconds from spawn to exit, and the peak RSS it reports. */
function measure(command: string, args: readonly string[]): Promise<{ seconds: number; rssMiB: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${err.slice(-2000)}`));
      const last = out.trim().split('\n').pop() ?? '{}';
      resolve({ seconds, rssMiB: (JSON.parse(last) as { maxRssMiB: number }).maxRssMiB });
    });
  });
}

const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const child = (what: string, model: string) =>
  measure(tsx, ['--conditions=@quantsim/source', path.join(here, 'child.ts'), what, model, String(count)]);

const { python, reason } = peerMethods.length > 0 ? findPython() : { reason: 'BENCH_PEER=0' };
if (!python) {
  console.log(`peer skipped: ${reason}`);
  peerMethods = [];
}
const ortPython = python
  ? execFileSync(python, ['-c', 'import onnxruntime; print(onnxruntime.__version__)']).toString().trim()
  : undefined;
const load = os.loadavg().map((l) => l.toFixed(1));
console.log(
  `quantsim bench: ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}${ortPython ? `, peer onnxruntime ${ortPython} (Python)` : ''}; load average at start ${load.join(' ')}`,
);
console.log(`whole process (start, load, calibrate, exit), ${count} samples, median of ${repeats}, W8A8\n`);

const cols = ['plain', ...schemes, ...peerMethods.map((m) => `peer ${m}`)];
const timeRows = [`| model | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---|').join('')}`];
const rssRows = [`| model | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---|').join('')}`];
const checks = ['| model | target | measured | met |', '|---|---|---|---|'];

for (const name of models) {
  const w = WORKLOADS[name];
  if (!w) throw new Error(`unknown model ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`);
  const dims = (w.sample(0).x as { dims: readonly number[] }).dims;
  const times: Record<string, number[]> = {};
  const rss: Record<string, number[]> = {};
  const record = (k: string, r: { seconds: number; rssMiB: number }) => {
    times[k] = [...(times[k] ?? []), r.seconds];
    rss[k] = [...(rss[k] ?? []), r.rssMiB];
    console.log(`  ${name} ${k}: ${r.seconds.toFixed(2)} s, ${r.rssMiB.toFixed(0)} MiB`);
  };
  for (let r = 0; r < repeats; r++) {
    record('plain', await child('plain', name));
    for (const s of schemes) record(s, await child(s, name));
    for (const m of peerMethods)
      record(
        `peer ${m}`,
        await measure(python as string, [path.join(here, 'peer.py'), w.model, m, ...dims.slice(1).map(String), String(count)]),
      );
  }
  const t = (k: string) => median(times[k] as number[]);
  const base = t('plain');
  const cell = (k: string) => (k === 'plain' ? `${base.toFixed(2)} s` : `${t(k).toFixed(2)} s (${(t(k) / base).toFixed(1)}×)`);
  timeRows.push(`| ${w.name} | ${cols.map(cell).join(' | ')} |`);
  rssRows.push(`| ${w.name} | ${cols.map((k) => `${median(rss[k] as number[]).toFixed(0)} MiB`).join(' | ')} |`);
  const check = (target: string, measured: string, met: boolean) =>
    checks.push(`| ${w.name} | ${target} | ${measured} | ${met ? 'yes' : 'no'} |`);
  for (const s of schemes) {
    const limit = s === 'minmax' ? (name === 'detector' ? 1.3 : 1.5) : HISTOGRAM.has(s) ? 2.5 : undefined;
    if (limit !== undefined) check(`${s} ≤ ${limit}× plain`, `${(t(s) / base).toFixed(2)}×`, t(s) / base <= limit);
    const peer = PEER_OF[s];
    if (name === 'recognizer' && peer && times[`peer ${peer}`]) {
      const want = s === 'minmax' ? 3 : 10;
      const speedup = t(`peer ${peer}`) / t(s);
      check(`${s} ≥ ${want}× faster than peer ${peer}`, `${speedup.toFixed(2)}×`, speedup >= want);
      if (HISTOGRAM.has(s)) {
        const share = median(rss[s] as number[]) / median(rss[`peer ${peer}`] as number[]);
        check(`${s} peak RSS ≤ 1/10 of peer ${peer}`, `${share.toFixed(3)}`, share <= 0.1);
      }
    }
  }
}
console.log(
  `\nTime, whole process:\n\n${timeRows.join('\n')}\n\nPeak RSS:\n\n${rssRows.join('\n')}\n\nTargets:\n\n${checks.join('\n')}\n`,
);
console.log(
  `load average at end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

// What the histograms alone cost a sample here, against plain inference (bench/histogram-floor.ts).
if (process.env.BENCH_FLOOR !== '0' && schemes.some((s) => HISTOGRAM.has(s))) {
  console.log('\nExact histograms against plain inference, per sample (bench/histogram-floor.ts):');
  execFileSync(tsx, ['--conditions=@quantsim/source', path.join(here, 'histogram-floor.ts'), models.join(',')], {
    cwd: root,
    stdio: 'inherit',
  });
}

if (process.env.BENCH_FLAT === '1') {
  const flat = ['| model | scheme | peak RSS, 16 samples | peak RSS, 256 samples | ratio |', '|---|---|---|---|---|'];
  for (const name of models)
    for (const s of schemes) {
      const few = await calibrationRss(name, s, 16);
      const many = await calibrationRss(name, s, 256);
      flat.push(
        `| ${WORKLOADS[name]?.name} | ${s} | ${few.maxRssMiB.toFixed(0)} MiB | ${many.maxRssMiB.toFixed(0)} MiB | ${(many.maxRssMiB / few.maxRssMiB).toFixed(3)}× |`,
      );
    }
  console.log(`Peak RSS against the sample count:\n\n${flat.join('\n')}`);
}
