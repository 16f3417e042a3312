// `pnpm bench:amp`: automatic mixed precision on the PaddleOCR v4 recognizer, scored by CER on the
// shipped demo lines (data/ocr-lines: 64 calibration, 96 evaluation lines; phase 1 on the first
// AMP_PHASE1 (default 24) of them). From W8A8 (AMP_WEIGHTS=per-tensor|per-channel, default
// per-tensor) to CER ≤ float + 0.2 points. Prints the front as a Markdown table, the plan, the time.
import os from 'node:os';
import { ctcGreedyDecode, loadOcrDictionary, loadOcrLines, type OcrLineSample, scoreLines } from '@quantsim/data';
import { type AmpCandidate, type AmpRunner, autoMixedPrecision, candidateName, quant, type TensorData } from 'quantsim';
import { REAL_MODELS } from '../test-support/models.js';

const dictionary = loadOcrDictionary();
const calibration = loadOcrLines('calibration').map((s) => ({ x: s.input }));
const lines = loadOcrLines('evaluation');
const phase1Lines = lines.slice(0, Number(process.env.AMP_PHASE1 ?? 24));
const perChannel = process.env.AMP_WEIGHTS === 'per-channel';

/** Lines stacked 32 at a time: the recognizer takes a batch. */
function stack(samples: readonly OcrLineSample[], size = 32): { x: TensorData }[] {
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
const cer = (samples: readonly OcrLineSample[]) => {
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
        samples.map((s) => s.label.text),
      ).cer
    );
  };
};

console.log(
  `quantsim AMP bench: ${new Date().toISOString()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load ${os
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
  evaluate: cer(lines),
  evaluatePhase1: cer(phase1Lines),
  better: 'lower',
  allowedDrop: 0.2,
  candidates,
  cost: 'bops',
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
if (process.env.AMP_CONFIG) await amp.saveConfig(process.env.AMP_CONFIG);
await amp.sim.release();
