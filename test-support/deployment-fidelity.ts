import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FeedsLike, QuantBuilder, TensorData } from 'quantsim';
import { quant } from 'quantsim';
import { loadOcrHard } from '../bench/ocr-hard-set.js';
import { type RgbImage, readPngImage } from '../packages/data/src/image/png-image.js';
import { ctcGreedyDecode } from '../packages/data/src/ocr/ctc-decode.js';
import { loadOcrDictionary } from '../packages/data/src/ocr/ocr-dictionary.js';
import { defaultOcrLinesDir, readOcrLinesLabels } from '../packages/data/src/ocr/ocr-lines-dataset.js';
import { recognizerInput } from '../packages/data/src/ocr/recognizer-input.js';
import { scoreLines } from '../packages/data/src/ocr/text-metrics.js';
import { REAL_MODELS } from './models.js';

/** A PaddleOCR model whose deployed QDQ export is scored on the shipped OCR lines. */
export type FidelityModel = 'recognizer' | 'classifier';

/** The two plans of the task metric. */
export const FIDELITY_PLANS = {
  W8A8: (b: QuantBuilder) => b,
  A16W8: (b: QuantBuilder) => b.activations(16),
} as const;

/** One row of the fidelity table: the task metric of `sim.run` and of the exported model in plain ONNX Runtime. */
export interface FidelityRow {
  readonly model: FidelityModel;
  readonly plan: keyof typeof FIDELITY_PLANS;
  /** `recognizer`: character error rate in percent; `classifier`: accuracy in percent. */
  readonly metric: 'CER %' | 'accuracy %';
  readonly float: number;
  /** `sim.run` in the default (simulate) mode. */
  readonly simRun: number;
  /** `sim.run` in emulate mode, on the same encodings. */
  readonly emulateRun: number;
  readonly qdqOrt: number;
  /** Samples the metric was measured on. */
  readonly samples: number;
  /** Samples whose decoded prediction differs between sim.run (simulate) and the QDQ model. */
  readonly disagreements: number;
  /** Samples whose decoded prediction differs between sim.run (emulate) and the QDQ model. */
  readonly emulateDisagreements: number;
}

type Run = (feeds: FeedsLike) => Promise<Record<string, TensorData>>;

function rotate180(image: RgbImage): RgbImage {
  const n = image.width * image.height;
  const data = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = image.data[(n - 1 - p) * 3 + c] as number;
  return { width: image.width, height: image.height, data };
}

/** The shipped lines of one split as model inputs with labels (text for the recognizer, 0/180 for the classifier). */
function dataset(model: FidelityModel, split: 'calibration' | 'evaluation', limit?: number) {
  const dir = defaultOcrLinesDir();
  const lines = readOcrLinesLabels(dir)
    .lines.filter((l) => l.split === split)
    .slice(0, limit);
  if (model === 'recognizer')
    return lines.map((l) => ({ feeds: { x: recognizerInput([readPngImage(path.join(dir, l.file))]) }, label: l.text }));
  // The direction classifier reads 3×48×192; every line upright (class 0) and turned over (class 1).
  const geometry = { height: 48, width: 192 };
  return lines.flatMap((l) => {
    const image = readPngImage(path.join(dir, l.file));
    return [
      { feeds: { x: recognizerInput([image], geometry) }, label: '0' },
      { feeds: { x: recognizerInput([rotate180(image)], geometry) }, label: '1' },
    ];
  });
}

async function predictions(model: FidelityModel, run: Run, samples: readonly { feeds: FeedsLike }[]): Promise<string[]> {
  const dictionary = model === 'recognizer' ? loadOcrDictionary() : undefined;
  const out: string[] = [];
  for (const s of samples) {
    const first = Object.values(await run(s.feeds))[0] as TensorData;
    if (dictionary) out.push(...ctcGreedyDecode(first, dictionary));
    else {
      const p = first.data as Float32Array;
      out.push((p[1] as number) > (p[0] as number) ? '1' : '0');
    }
  }
  return out;
}

function score(model: FidelityModel, predicted: readonly string[], labels: readonly string[]): number {
  if (model === 'recognizer') return scoreLines(predicted, labels).cer * 100;
  return (100 * predicted.filter((p, i) => p === labels[i]).length) / labels.length;
}

/** Runs an ONNX file in plain onnxruntime-node with default session options, as a deployment would. */
async function plainOrt(file: string): Promise<{ run: Run; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(readFileSync(file));
  return {
    async run(feeds) {
      const inputs = Object.fromEntries(
        Object.entries(feeds as Record<string, TensorData>).map(([k, v]) => [
          k,
          new ort.Tensor('float32', v.data as Float32Array, [...v.dims]),
        ]),
      );
      const out = await session.run(inputs);
      return Object.fromEntries(
        session.outputNames.map((n) => {
          const t = out[n] as ort.Tensor;
          return [n, { type: 'float32', data: t.data as Float32Array, dims: [...t.dims] } as TensorData];
        }),
      );
    },
    release: () => session.release(),
  };
}

/**
 * The hard set (data/ocr-hard; bench/ocr-hard-set.ts): calibration lines, and the dev split for
 * scoring. Each line is one sample, at the angle it was rendered with (classifier label 0 or 1).
 */
function hardDataset(model: FidelityModel, split: 'calibration' | 'dev', limit?: number) {
  return loadOcrHard(split)
    .slice(0, limit)
    .map((s) =>
      model === 'recognizer'
        ? { feeds: { x: s.recognizer }, label: s.label.text }
        : { feeds: { x: s.classifier }, label: s.label.angle === 180 ? '1' : '0' },
    );
}

/**
 * Calibrates `model` with `plan` on the calibration lines, exports the QDQ model under
 * `prefix`, and scores float, `sim.run` and the exported model in plain ONNX Runtime (default
 * options: every optimisation, integer kernels) on the evaluation lines: the shipped lines
 * (`set: 'shipped'`, the default) or the hard set's calibration and dev splits (`set: 'hard'`).
 */
export async function measureFidelity(
  model: FidelityModel,
  plan: keyof typeof FIDELITY_PLANS,
  prefix: string,
  options: { calibration?: number; evaluation?: number; set?: 'shipped' | 'hard' } = {},
): Promise<FidelityRow> {
  const hard = options.set === 'hard';
  const calib = hard
    ? hardDataset(model, 'calibration', options.calibration ?? 32)
    : dataset(model, 'calibration', options.calibration ?? 32);
  const evaluation = hard ? hardDataset(model, 'dev', options.evaluation) : dataset(model, 'evaluation', options.evaluation);
  const labels = evaluation.map((e) => e.label);
  const file = model === 'recognizer' ? REAL_MODELS.ocrRecognizer : REAL_MODELS.ocrClassifier;
  const sim = await FIDELITY_PLANS[plan](quant(file)).calibrate(calib.map((c) => c.feeds));
  try {
    const files = await sim.export(prefix, { formats: ['qdq', 'encodings', 'onnx'] });
    const deployed = await plainOrt(files.qdq as string);
    // The encodings go with the exported .onnx, the model they were computed on (it would hold
    // the biases that .biasCorrection() rewrites).
    const emulate = await FIDELITY_PLANS[plan](quant(files.onnx as string).mode('emulate'))
      .loadEncodings(files.encodings as string)
      .simulate();
    try {
      const float = await predictions(model, (f) => sim.runFloat(f), evaluation);
      const simulated = await predictions(model, (f) => sim.run(f), evaluation);
      const emulated = await predictions(model, (f) => emulate.run(f), evaluation);
      const qdq = await predictions(model, deployed.run, evaluation);
      return {
        model,
        plan,
        metric: model === 'recognizer' ? 'CER %' : 'accuracy %',
        float: score(model, float, labels),
        simRun: score(model, simulated, labels),
        emulateRun: score(model, emulated, labels),
        qdqOrt: score(model, qdq, labels),
        samples: labels.length,
        disagreements: qdq.filter((p, i) => p !== simulated[i]).length,
        emulateDisagreements: qdq.filter((p, i) => p !== emulated[i]).length,
      };
    } finally {
      await deployed.release();
      await emulate.release();
    }
  } finally {
    await sim.release();
  }
}
