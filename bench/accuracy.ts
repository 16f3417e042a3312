// Accuracy of W8A8 plans on the hard OCR set (data/ocr-hard): recognizer CER (greedy CTC) and
// direction-classifier accuracy on the held-out `test` split, after calibrating on the
// `calibration` split, for float, the defaults, each scheme with the defaults, and named configs.
// Each (model, plan) calibrates in its own child process so that its peak RSS is its own.
//
//   pnpm tsx --conditions=@quantsim/source bench/accuracy.ts [--split test|dev] [--plans 'a;b'] [--models recognizer,classifier] [--calibration N] [--eval N]
//
// Results go to stdout as a Markdown table (docs/accuracy.md records one run).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { QuantBuilder, TensorData } from 'quantsim';
import { quant } from 'quantsim';
import { ctcGreedyDecode } from '../packages/data/src/ocr/ctc-decode.js';
import { loadOcrDictionary } from '../packages/data/src/ocr/ocr-dictionary.js';
import { scoreLines } from '../packages/data/src/ocr/text-metrics.js';
import { OCR_DICTIONARY, REAL_MODELS } from '../test-support/models.js';
import { loadOcrHard, type OcrHardSample, type OcrHardSplit } from './ocr-hard-set.js';

/** The plans measured, by name: each turns a fresh builder into the plan to calibrate. */
const PLANS: Readonly<Record<string, (b: QuantBuilder) => QuantBuilder>> = {
  defaults: (b) => b,
  minmax: (b) => b.defaults({ scheme: 'minmax' }),
  'minmax weights': (b) => b.defaults({ paramScheme: 'minmax' }),
  'tf-enhanced v1': (b) => b.defaults({ scheme: 'tf-enhanced' }).all().scheme('tf-enhanced', { variant: 'v1' }),
  percentile: (b) => b.defaults({ scheme: 'percentile' }),
  mse: (b) => b.defaults({ scheme: 'mse' }),
  entropy: (b) => b.defaults({ scheme: 'entropy' }),
  'entropy tensorrt': (b) => b.defaults({ scheme: 'entropy' }).all().scheme('entropy', { variant: 'tensorrt' }),
  'entropy, minmax Softmax': (b) => b.defaults({ scheme: 'entropy' }).ops('Softmax').scheme('minmax'),
  'entropy, minmax bounded outputs': (b) =>
    b.defaults({ scheme: 'entropy' }).ops('Sigmoid', 'HardSigmoid', 'Softmax', 'Tanh').scheme('minmax'),
  'per-tensor weights': (b) => b.defaults({ perChannel: false }),
  "config('aimet-default')": (b) => b.config('aimet-default'),
  "config('aimet-per-channel')": (b) => b.config('aimet-per-channel'),
  "config('htp')": (b) => b.config('htp'),
  "config('ort')": (b) => b.config('ort'),
  '+ equalize()': (b) => b.equalize(),
  '+ seqMse()': (b) => b.seqMse(),
  'A16 (W8A16)': (b) => b.defaults({ activations: 16 }),
};

/**
 * The plan of a `--plans` entry: a name of {@link PLANS}, with ` -bc` at the end for the same plan
 * with `.biasCorrection(false)` (bias correction is on by default).
 */
function planOf(entry: string): ((b: QuantBuilder) => QuantBuilder) | undefined {
  const withoutBc = entry.endsWith(' -bc');
  const make = PLANS[withoutBc ? entry.slice(0, -' -bc'.length) : entry];
  if (!make || !withoutBc) return make;
  return (b) => make(b).biasCorrection(false);
}

type ModelName = 'recognizer' | 'classifier';

interface ChildResult {
  readonly model: ModelName;
  readonly plan: string;
  /** CER (recognizer) or accuracy (classifier), quantized. */
  readonly quantized: number;
  /** The same metric of the float model (measured by the first child of each model only). */
  readonly float: number | undefined;
  readonly maxRssMiB: number;
  readonly calibrationSeconds: number;
}

function metric(model: ModelName, outputs: TensorData[], samples: readonly OcrHardSample[]): number {
  if (model === 'recognizer') {
    const dictionary = loadOcrDictionary(OCR_DICTIONARY);
    const predictions = outputs.flatMap((o) => ctcGreedyDecode(o, dictionary));
    return scoreLines(
      predictions,
      samples.map((s) => s.label.text),
    ).cer;
  }
  let right = 0;
  outputs.forEach((o, i) => {
    const p = o.data as Float32Array;
    const angle = (p[1] as number) > (p[0] as number) ? 180 : 0;
    if (angle === samples[i]?.label.angle) right++;
  });
  return right / samples.length;
}

async function child(
  model: ModelName,
  plan: string,
  split: OcrHardSplit,
  calibration: number,
  evaluation: number,
  withFloat: boolean,
) {
  const makePlan = planOf(plan);
  if (!makePlan)
    throw new Error(
      `unknown plan '${plan}'; known: ${Object.keys(PLANS).join(', ')} (each also with ' -bc': no bias correction)`,
    );
  const input = (s: OcrHardSample) => ({ x: model === 'recognizer' ? s.recognizer : s.classifier });
  const calib = loadOcrHard('calibration').slice(0, calibration);
  const started = performance.now();
  const sim = await makePlan(quant(model === 'recognizer' ? REAL_MODELS.ocrRecognizer : REAL_MODELS.ocrClassifier)).calibrate(
    calib.map(input),
  );
  const calibrationSeconds = (performance.now() - started) / 1000;
  // maxRSS is in KiB on Linux; read before evaluation so that it is the calibration's peak.
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  const test = loadOcrHard(split).slice(0, evaluation);
  const quantizedOut: TensorData[] = [];
  const floatOut: TensorData[] = [];
  for (const s of test) {
    quantizedOut.push(Object.values(await sim.run(input(s)))[0] as TensorData);
    if (withFloat) floatOut.push(Object.values(await sim.runFloat(input(s)))[0] as TensorData);
  }
  await sim.release();
  const result: ChildResult = {
    model,
    plan,
    quantized: metric(model, quantizedOut, test),
    float: withFloat ? metric(model, floatOut, test) : undefined,
    maxRssMiB,
    calibrationSeconds,
  };
  console.log(JSON.stringify(result));
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const split = option('--split', 'test') as OcrHardSplit;
const calibration = Number(option('--calibration', '200'));
const evaluation = Number(option('--eval', '300'));

if (process.argv[2] === '--child') {
  await child(
    process.argv[3] as ModelName,
    process.argv[4] as string,
    split,
    calibration,
    evaluation,
    process.argv.includes('--float'),
  );
} else {
  // Plans are separated by ';' (names hold commas).
  const plans = option('--plans', Object.keys(PLANS).join(';')).split(';');
  const models = option('--models', 'recognizer,classifier').split(',') as ModelName[];
  const results: ChildResult[] = [];
  for (const plan of plans)
    for (const model of models) {
      const out = execFileSync(
        process.execPath,
        [
          ...process.execArgv,
          fileURLToPath(import.meta.url),
          '--child',
          model,
          plan,
          '--split',
          split,
          '--calibration',
          String(calibration),
          '--eval',
          String(evaluation),
          ...(results.some((r) => r.model === model) ? [] : ['--float']),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
      );
      const r = JSON.parse(out.trim().split('\n').at(-1) as string) as ChildResult;
      results.push(r);
      console.error(
        `${plan} ${model}: ${model === 'recognizer' ? `CER ${(r.quantized * 100).toFixed(2)} %` : `accuracy ${r.quantized.toFixed(3)}`} (float ${r.float === undefined ? 'not measured' : model === 'recognizer' ? `${(r.float * 100).toFixed(2)} %` : r.float.toFixed(3)}), calibration ${r.calibrationSeconds.toFixed(0)} s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`,
      );
    }
  const get = (plan: string, model: ModelName) => results.find((r) => r.plan === plan && r.model === model);
  const cer = (r: ChildResult | undefined, v: 'quantized' | 'float') =>
    r?.[v] === undefined ? '—' : `${((r[v] as number) * 100).toFixed(2)} %`;
  const acc = (r: ChildResult | undefined, v: 'quantized' | 'float') =>
    r?.[v] === undefined ? '—' : (r[v] as number).toFixed(3);
  const rss = (r: ChildResult | undefined) => (r ? `${r.maxRssMiB.toFixed(0)} MiB` : '—');
  const first = (m: ModelName) => results.find((r) => r.model === m);
  console.log(
    `Hard OCR set, ${split} split (${evaluation} lines at most), calibrated on ${calibration} calibration lines; ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.\n`,
  );
  console.log(
    '| plan (W8A8) | classifier acc. | recognizer CER | peak RSS, classifier calibration | peak RSS, recognizer calibration |',
  );
  console.log('|---|---|---|---|---|');
  console.log(`| float | ${acc(first('classifier'), 'float')} | ${cer(first('recognizer'), 'float')} | — | — |`);
  for (const plan of plans) {
    const c = get(plan, 'classifier');
    const r = get(plan, 'recognizer');
    console.log(`| ${plan} | ${acc(c, 'quantized')} | ${cer(r, 'quantized')} | ${rss(c)} | ${rss(r)} |`);
  }
}
