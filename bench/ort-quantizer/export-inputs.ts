// Writes the hard OCR set's inputs as .npy files for bench/ort-quantizer/ort_quantize.py, so that
// ONNX Runtime's Python quantizer sees exactly the tensors quantsim calibrates and evaluates on.
//   pnpm tsx --conditions=@quantsim/source bench/ort-quantizer/export-inputs.ts <out-dir> [calibration] [eval]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpy } from '../../packages/data/src/npy/npy-format.js';
import { loadOcrHard, type OcrHardSample } from '../ocr-hard-set.js';

const [out = '/tmp/ocr-hard-npy', calibration = '200', evaluation = '300'] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const stack = (samples: readonly OcrHardSample[], pick: (s: OcrHardSample) => { data: unknown; dims: readonly number[] }) => {
  const first = pick(samples[0] as OcrHardSample);
  const size = (first.data as Float32Array).length;
  const data = new Float32Array(size * samples.length);
  for (const [i, s] of samples.entries()) data.set(pick(s).data as Float32Array, i * size);
  return encodeNpy(data, [samples.length, ...first.dims.slice(1)]);
};
for (const [split, count] of [
  ['calibration', Number(calibration)],
  ['test', Number(evaluation)],
] as const) {
  const samples = loadOcrHard(split).slice(0, count);
  writeFileSync(
    path.join(out, `${split}-recognizer.npy`),
    stack(samples, (s) => s.recognizer),
  );
  writeFileSync(
    path.join(out, `${split}-classifier.npy`),
    stack(samples, (s) => s.classifier),
  );
  writeFileSync(
    path.join(out, `${split}-labels.json`),
    JSON.stringify(samples.map((s) => ({ text: s.label.text, angle: s.label.angle }))),
  );
}
console.log(`export-inputs: wrote ${out}`);
