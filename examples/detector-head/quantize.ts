/**
 * The mission line: convolutions at 8 bits, the fully connected layers and the box regressor at
 * 16, calibrated with TF-enhanced encodings, compared with the float model, and exported.
 *
 * Run: `pnpm exec tsx --conditions=@quantsim/source examples/detector-head/quantize.ts [out/prefix]`
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { type ExportedFiles, type QuantPlan, quant, type TensorComparison } from 'quantsim';
import { buildDetectorHead, detectorImages } from './detector-head-model.js';

/** What the example produces. */
export interface DetectorHeadResult {
  readonly plan: QuantPlan;
  readonly comparison: readonly TensorComparison[];
  readonly files: ExportedFiles;
}

/** Quantizes the detector head with 16-bit fc/bbox layers and exports it under `prefix`. */
export async function quantizeDetectorHead(prefix: string): Promise<DetectorHeadResult> {
  const calibrationData = detectorImages(32);
  const sim = await quant(buildDetectorHead())
    .defaults({ activations: 8, params: 8, scheme: 'tf-enhanced' })
    .layers(/fc|bbox/)
    .activations(16)
    .params(16)
    .calibrate(calibrationData);
  try {
    const comparison = await sim.compare(detectorImages(4, 123));
    const files = await sim.export(prefix);
    return { plan: sim.plan, comparison, files };
  } finally {
    await sim.release();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { plan, comparison, files } = await quantizeDetectorHead(process.argv[2] ?? 'out/detector-head');
  console.log(plan.toTable());
  console.log('\nSQNR, float versus quantized (worst first):');
  for (const c of comparison) console.log(`  ${c.tensor.padEnd(20)} ${c.sqnr.toFixed(1)} dB`);
  console.log('\nWrote:', Object.values(files).join(', '));
}
