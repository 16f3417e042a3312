// Post-training techniques on the PaddleOCR recognizer and classifier, shipped demo lines
// (data/ocr-lines: 64 calibration, 96 evaluation lines), W8A8, per-tensor and per-channel
// weights: float; defaults; + .equalize(); + .biasCorrection(); + .seqMse(); all three.
//
//   pnpm exec tsx --conditions=@quantsim/source bench/ptq.ts
//
// Environment: PTQ_MODELS=rec,cls, PTQ_CALIB (default 64), PTQ_EVAL (default 96),
// PTQ_STEPS=defaults,equalize,biasCorrection,seqMse,all; PTQ_WEIGHTS=per-tensor,per-channel.
// The classifier reads each evaluation line upright and rotated by 180° (labels '0', '180');
// calibration lines alternate between the two.
import os from 'node:os';
import path from 'node:path';
import {
  defaultOcrLinesDir,
  evaluateRecognizer,
  loadOcrDictionary,
  loadOcrLines,
  ocrModelsAssetsDir,
  type RgbImage,
  readOcrLinesLabels,
  readPngImage,
  recognizerInput,
} from '@quantsim/data';
import { loadModel, type QuantBuilder, quant, type TensorData } from 'quantsim';

const models = (process.env.PTQ_MODELS ?? 'rec,cls').split(',');
const calibCount = Number(process.env.PTQ_CALIB ?? 64);
const evalCount = Number(process.env.PTQ_EVAL ?? 96);
const steps = (process.env.PTQ_STEPS ?? 'defaults,equalize,biasCorrection,seqMse,all').split(',');
const weightModes = (process.env.PTQ_WEIGHTS ?? 'per-tensor,per-channel').split(',');

// Bias correction is on by default: each step but biasCorrection and all is measured without it.
const apply: Record<string, (b: QuantBuilder) => QuantBuilder> = {
  defaults: (b) => b.biasCorrection(false),
  equalize: (b) => b.equalize().biasCorrection(false),
  biasCorrection: (b) => b.biasCorrection(),
  seqMse: (b) => b.seqMse().biasCorrection(false),
  all: (b) => b.equalize().seqMse().biasCorrection(),
};

console.log(
  `bench/ptq: ${new Date().toISOString()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, Node ${process.version}; ${calibCount} calibration, ${evalCount} evaluation lines`,
);

function rotate180(image: RgbImage): RgbImage {
  const n = image.width * image.height;
  const data = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = image.data[(n - 1 - p) * 3 + c] as number;
  return { ...image, data };
}

function classifierSamples(split: 'calibration' | 'evaluation', limit: number, both: boolean) {
  const dir = defaultOcrLinesDir();
  const lines = readOcrLinesLabels(dir)
    .lines.filter((l) => l.split === split)
    .slice(0, limit);
  const out: { input: TensorData; label: number }[] = [];
  for (const [i, l] of lines.entries()) {
    const image = readPngImage(path.join(dir, l.file));
    const geometry = { height: 48, width: 192 };
    if (both || i % 2 === 0) out.push({ input: recognizerInput([image], geometry), label: 0 });
    if (both || i % 2 === 1) out.push({ input: recognizerInput([rotate180(image)], geometry), label: 1 });
  }
  return out;
}

type Run = (feeds: { x: TensorData }) => Promise<Record<string, TensorData>>;

const rows: string[] = [];
for (const name of models) {
  const file = name === 'rec' ? 'ch_PP-OCRv4_rec_infer.onnx' : 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
  const model = await loadModel(path.join(ocrModelsAssetsDir(), file));
  let calib: { x: TensorData }[];
  let evaluate: (run: Run) => Promise<string>;
  if (name === 'rec') {
    const dictionary = loadOcrDictionary();
    calib = loadOcrLines('calibration', { limit: calibCount }).map((l) => ({ x: l.input }));
    const evaluation = loadOcrLines('evaluation', { limit: evalCount });
    evaluate = async (run) => {
      const r = await evaluateRecognizer(run as never, evaluation, dictionary);
      return `CER ${(r.cer * 100).toFixed(2)} %, lines ${(r.accuracy * 100).toFixed(1)} %`;
    };
  } else {
    calib = classifierSamples('calibration', calibCount, false).map((s) => ({ x: s.input }));
    const evaluation = classifierSamples('evaluation', evalCount, true);
    evaluate = async (run) => {
      let right = 0;
      for (const s of evaluation) {
        const outputs = await run({ x: s.input });
        const p = Object.values(outputs)[0]?.data as Float32Array;
        if (((p[1] as number) > (p[0] as number) ? 1 : 0) === s.label) right++;
      }
      return `accuracy ${(right / evaluation.length).toFixed(3)} (${right}/${evaluation.length})`;
    };
  }
  let floatDone = false;
  for (const weights of weightModes) {
    for (const step of steps) {
      const builder = apply[step]?.(quant(model).defaults({ activations: 8, params: 8, perChannel: weights === 'per-channel' }));
      if (!builder) throw new Error(`unknown step ${step}`);
      const started = Date.now();
      const sim = await builder.calibrate(calib);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      if (!floatDone) {
        const f = await evaluate((feeds) => sim.runFloat(feeds));
        rows.push(`| ${name} | float | - | ${f} | - |`);
        console.log(rows.at(-1));
        floatDone = true;
      }
      const q = await evaluate((feeds) => sim.run(feeds));
      const pt = sim.postTraining;
      const notes = [
        pt.equalization ? `${pt.equalization.sets.length} CLE sets, ${pt.equalization.skipped.length} skipped` : '',
        pt.seqMse ? `${pt.seqMse.records.length} seqMse layers` : '',
        pt.biasCorrection ? `${pt.biasCorrection.length} biases corrected` : '',
      ]
        .filter(Boolean)
        .join('; ');
      rows.push(
        `| ${name} | W8A8 ${weights} ${step === 'defaults' ? 'defaults' : `+ ${step}`} | ${seconds} s | ${q} | ${notes || '-'} |`,
      );
      console.log(rows.at(-1));
      if (step === 'equalize' && weights === weightModes[0] && pt.equalization)
        for (const s of pt.equalization.skipped.slice(0, 50)) console.log(`  skipped ${s.layers.join(' → ')}: ${s.reason}`);
      await sim.release();
    }
  }
}
console.log('\n| model | configuration | calibration (with steps) | result | steps |\n|---|---|---|---|---|');
for (const r of rows) console.log(r);
