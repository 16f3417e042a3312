/**
 * Child-process half of the "compare never crashes" test: calibrates one shipped model, runs
 * `sim.compare` and prints one JSON line. Run by `runTsChild` so that a native crash is a
 * failed test, not a dead test runner. Arguments: model key, mode, activation bits.
 */

import { REAL_MODELS } from '../../../../test-support/models.js';
import { type FeedsLike, quant } from '../../src/index.js';

const [key, mode, bits] = process.argv.slice(2) as [keyof typeof REAL_MODELS, 'simulate' | 'emulate', string];

/** Smooth pseudo-images in about [−1, 1], different for each `i`. */
function image(c: number, h: number, w: number, i: number): Float32Array {
  const out = new Float32Array(c * h * w);
  for (let k = 0; k < out.length; k++) {
    const x = k % w;
    const y = Math.floor(k / w) % h;
    const ch = Math.floor(k / (w * h));
    out[k] = Math.sin(x * (0.013 + (i % 7) * 0.004) + ch + i) * Math.cos(y * (0.021 + (i % 5) * 0.003) - i * 0.3) * 0.9;
  }
  return out;
}

function audio(i: number): Float32Array {
  return Float32Array.from({ length: 512 }, (_, k) => 0.3 * Math.sin(k * (0.05 + i * 0.01)) + 0.05 * Math.sin(k * 7.3 + i));
}

function sample(i: number): FeedsLike {
  const img = (h: number, w: number) => ({ x: { type: 'float32', data: image(3, h, w, i), dims: [1, 3, h, w] } }) as const;
  const sr = { type: 'int64', data: BigInt64Array.from([16000n]), dims: [] } as const;
  switch (key) {
    case 'ocrDetector':
      return img(96, 96);
    case 'ocrRecognizer':
      return img(48, 320);
    case 'ocrClassifier':
      return img(48, 192);
    case 'sileroLegacy':
      return {
        input: { type: 'float32', data: audio(i), dims: [1, 512] },
        sr,
        h: { type: 'float32', data: new Float32Array(128), dims: [2, 1, 64] },
        c: { type: 'float32', data: new Float32Array(128), dims: [2, 1, 64] },
      };
    default:
      return {
        input: { type: 'float32', data: audio(i), dims: [1, 512] },
        state: { type: 'float32', data: new Float32Array(256), dims: [2, 1, 128] },
        sr,
      };
  }
}

const sim = await quant(REAL_MODELS[key]).mode(mode).activations(Number(bits)).calibrate([0, 1, 2].map(sample));
try {
  const report = await sim.compare([sample(5)]);
  const outputs = report.filter((r) => r.isGraphOutput).map((r) => ({ tensor: r.tensor, sqnr: r.sqnr }));
  process.stdout.write(`${JSON.stringify({ key, mode, bits, tensors: report.length, outputs })}\n`);
} finally {
  await sim.release();
}
