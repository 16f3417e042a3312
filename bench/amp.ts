// `pnpm bench:amp`: automatic mixed precision on the PaddleOCR v4 recognizer, scored by CER. From
// W8A8 (AMP_WEIGHTS=per-tensor|per-channel, default per-tensor) to CER ≤ float + 0.2 points.
// Prints the front as a Markdown table, the plan, the time.
//
// AMP_SET=demo (default): the shipped demo lines (data/ocr-lines: 64 calibration, 96 evaluation
// lines; phase 1 on the first AMP_PHASE1, default 24, of them).
// AMP_SET=hard: the hard OCR set (data/ocr-hard): calibration on the first AMP_CALIB (64) lines of
// its calibration split, the search scored on the first AMP_EVAL (200) lines of its dev split
// (phase 1 on the first AMP_PHASE1), then the chosen plan calibrated from its saved config (with
// the default bias correction) and reported on the first AMP_TEST (300) lines of the held-out
// test split, which the search never saw. AMP_WORKERS: evaluation threads (default 1).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ctcGreedyDecode, loadOcrDictionary, loadOcrLines, scoreLines } from '@quantsim/data';
import { type AmpCandidate, type AmpRunner, autoMixedPrecision, candidateName, quant, type TensorData } from 'quantsim';
import { REAL_MODELS } from '../test-support/models.js';
import { loadOcrHard } from './ocr-hard-set.js';

/** A recognizer line: its input and its text. */
interface Line {
  readonly input: TensorData;
  readonly text: string;
}

const dictionary = loadOcrDictionary();
const hard = process.env.AMP_SET === 'hard';
const fromHard = (split: 'calibration' | 'dev' | 'test', count: number): Line[] =>
  loadOcrHard(split)
    .slice(0, count)
    .map((s) => ({ input: s.recognizer, text: s.label.text }));
const calibration = (
  hard
    ? fromHard('calibration', Number(process.env.AMP_CALIB ?? 64))
    : loadOcrLines('calibration').map((s) => ({ input: s.input, text: s.label.text }))
).map((s) => ({ x: s.input }));
const lines: Line[] = hard
  ? fromHard('dev', Number(process.env.AMP_EVAL ?? 200))
  : loadOcrLines('evaluation').map((s) => ({ input: s.input, text: s.label.text }));
const phase1Lines = lines.slice(0, Number(process.env.AMP_PHASE1 ?? 24));
const perChannel = process.env.AMP_WEIGHTS === 'per-channel';
const workers = process.env.AMP_WORKERS === 'auto' ? 'auto' : Number(process.env.AMP_WORKERS ?? 1);

/** Lines stacked 32 at a time: the recognizer takes a batch. */
function stack(samples: readonly Line[], size = 32): { x: TensorData }[] {
  const out: { x: TensorData }[] = [];
  for (let i = 0; i < samples.length; i += size) {
    const chunk = samples.slice(i, i + size);
    const one = chunk[0]?.input as TensorData;
    const data = new Float32Array(one.data.length * chunk.length);
    for (const [k, s] of chunk.entries()) data.set(s.input.data as Float32Array, k * one.data.length);
    out.push({ x: { type: 'float32', data, dims: [chunk.length, ...one.dims.slice(1)] } });
  }
  return out;
}
const cer = (samples: readonly Line[]) => {
  const batches = stack(samples);
  return async (runner: AmpRunner) => {
    const predictions: string[] = [];
    for (const b of batches) {
      const first = Object.values(await runner.run(b))[0] as TensorData;
      predictions.push(...ctcGreedyDecode(first, dictionary));
    }
    return (
      100 *
      scoreLines(
        predictions,
        samples.map((s) => s.text),
      ).cer
    );
  };
};

/** `evaluate` that prints each full evaluation's score and the time, so that a long run shows where it is. */
function logged(evaluate: (runner: AmpRunner) => Promise<number>) {
  let count = 0;
  return async (runner: AmpRunner) => {
    const score = await evaluate(runner);
    console.log(`  evaluation ${++count}: CER ${score.toFixed(2)} % (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    return score;
  };
}

/** Mean squared difference of the output probabilities from the float model's, over `samples`. */
async function probabilityError(samples: readonly Line[]) {
  const batches = stack(samples);
  const reference = await quant(REAL_MODELS.ocrRecognizer).biasCorrection(false).calibrate(calibration.slice(0, 1));
  const floats: Float32Array[] = [];
  for (const b of batches) floats.push((Object.values(await reference.runFloat(b))[0] as TensorData).data as Float32Array);
  await reference.release();
  return async (runner: AmpRunner) => {
    let sum = 0;
    let count = 0;
    for (const [k, b] of batches.entries()) {
      const got = (Object.values(await runner.run(b))[0] as TensorData).data as Float32Array;
      const want = floats[k] as Float32Array;
      for (let i = 0; i < want.length; i++) sum += ((got[i] as number) - (want[i] as number)) ** 2;
      count += want.length;
    }
    return sum / count;
  };
}

console.log(
  `quantsim AMP bench: ${new Date().toISOString()}, ${hard ? 'hard set' : 'demo lines'}, ${calibration.length} calibration, ${lines.length} evaluation (phase 1: ${phase1Lines.length}) lines, workers ${workers}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const candidates: AmpCandidate[] = [
  { activations: 8, params: 8 },
  { activations: 16, params: 8 },
  { activations: 16, params: 16 },
];
const started = performance.now();
let last = 0;
const amp = await autoMixedPrecision(quant(REAL_MODELS.ocrRecognizer).defaults({ perChannel }), {
  calibration,
  evaluate: logged(cer(lines)),
  // Phase 1 ranks groups: CER on a few lines moves by whole edits and mostly not at all when one
  // group is raised, so it scores them by a smooth proxy instead, the mean squared difference of
  // the output probabilities from float on those lines (lower is better, as CER).
  evaluatePhase1: hard ? await probabilityError(phase1Lines) : cer(phase1Lines),
  better: 'lower',
  allowedDrop: 0.2,
  candidates,
  cost: 'bops',
  workers,
  onProgress: (p) => {
    if (performance.now() - last > 15_000) {
      last = performance.now();
      console.log(`  ${p.phase} ${p.done}/${p.total} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  },
});
const seconds = (performance.now() - started) / 1000;
const enabled = amp.sim.plan.enabled;
const above8 = enabled.filter((q) => q.bitwidth > 8).length;
console.log(
  `\nweights ${perChannel ? 'per-channel' : 'per-tensor'}; float CER ${amp.float.toFixed(2)} %, target ≤ ${amp.target.toFixed(2)} %, reached ${amp.reached}: CER ${amp.score.toFixed(2)} %`,
);
console.log(
  `quantizers above 8 bits: ${above8} of ${enabled.length} (${((100 * above8) / enabled.length).toFixed(1)} %); ${seconds.toFixed(0)} s`,
);
console.log('\n| step | relative BOPs | CER % | groups raised |\n|---|---|---|---|');
for (const [i, p] of amp.front.entries())
  console.log(
    `| ${i} | ${p.cost.toFixed(4)} | ${p.score.toFixed(2)} | ${
      Object.entries(p.changes)
        .map(([g, c]) => `${g}→${c}`)
        .join(', ') || '–'
    } |`,
  );
console.log(
  '\nraised groups:',
  amp.plan
    .filter((e) => candidateName(e.candidate) !== 'W8A8')
    .map((e) => `${e.group}: ${candidateName(e.candidate)}`)
    .join('; '),
);
const config = process.env.AMP_CONFIG ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'quantsim-amp-')), 'plan.json');
await amp.saveConfig(config);
await amp.sim.release();
if (hard) {
  // The chosen plan as a user gets it (its saved config, calibrated with the default bias
  // correction), and W8A8 with the same calibration, on held-out lines.
  const test = fromHard('test', Number(process.env.AMP_TEST ?? 300));
  const score = cer(test);
  const chosen = await quant(REAL_MODELS.ocrRecognizer).defaults({ perChannel }).config(config).calibrate(calibration);
  const w8a8 = await quant(REAL_MODELS.ocrRecognizer).defaults({ perChannel }).calibrate(calibration);
  const floatCer = await score({ run: (f, fetches) => chosen.runFloat(f, fetches) });
  const rows = [
    ['float', floatCer],
    ['W8A8 (bias correction)', await score(w8a8)],
    ['AMP plan (bias correction)', await score(chosen)],
  ] as const;
  console.log(`\nheld-out test split (${test.length} lines):\n\n| plan | CER % |\n|---|---|`);
  for (const [name, v] of rows) console.log(`| ${name} | ${v.toFixed(2)} |`);
  await Promise.all([chosen.release(), w8a8.release()]);
}
