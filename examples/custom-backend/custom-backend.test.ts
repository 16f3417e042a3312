import { readFileSync } from 'node:fs';
import { CpuBackend, registerDefaultBackends } from '@quantsim/backends';
import {
  type Backend,
  createBackendContainer,
  ModelBuilder,
  probeBackend,
  type QdqElementType,
  registerBackend,
  resolveBackend,
  type TensorData,
} from '@quantsim/core';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../test-support/models.js';
import { WasmBackend } from './wasm-backend.js';

/** A deterministic picture of strokes in PaddleOCR's [-1, 1] range, shaped [1, 3, h, w]. */
function strokeImage(h: number, w: number, seed: number): TensorData {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const stroke = y > h / 4 && y < (3 * h) / 4 && Math.sin(x * 0.9 + seed) * Math.cos(y * 0.7 - seed) > 0.3;
        data[(c * h + y) * w + x] = (stroke ? -0.8 : 0.9) + 0.05 * Math.sin(x * 0.13 + y * 0.29 + c + seed);
      }
  return { type: 'float32', data, dims: [1, 3, h, w] };
}

async function runOnce(backend: Backend, model: Uint8Array, input: TensorData): Promise<TensorData> {
  const session = await backend.createSession(model, { mode: 'float' });
  try {
    const outputs = await session.run({ [session.inputNames[0] ?? 'x']: input });
    const first = outputs[session.outputNames[0] ?? ''];
    if (!first) throw new Error('no output');
    return first;
  } finally {
    await session.release();
  }
}

const QDQ: Record<QdqElementType, { code: number; lo: number; hi: number }> = {
  int4: { code: 22, lo: -8, hi: 7 },
  uint4: { code: 21, lo: 0, hi: 15 },
  int8: { code: 3, lo: -128, hi: 127 },
  uint8: { code: 2, lo: 0, hi: 255 },
  int16: { code: 5, lo: -32768, hi: 32767 },
  uint16: { code: 4, lo: 0, hi: 65535 },
};

/** y = DequantizeLinear(QuantizeLinear(x)) at opset 21, x: float32 [4, 4]. */
function qdqModel(type: QdqElementType): Uint8Array {
  const { code, lo, hi } = QDQ[type];
  const b = new ModelBuilder({ opset: 21 });
  const x = b.input('x', 'float32', [4, 4]);
  const scale = b.initializer('scale', [], [4 / (hi - lo)]);
  const zp = b.node('Cast', [b.constant('zp64', [], [Math.round((lo + hi) / 2)], 'int64')], { attrs: { to: code } });
  const q = b.node('QuantizeLinear', [x, scale, zp]);
  b.output(b.node('DequantizeLinear', [q, scale, zp], { outputs: ['y'] }), 'float32', [4, 4]);
  return b.build().toBytes();
}

function maxAbsDiff(a: TensorData, b: TensorData): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return max;
}

describe('a custom backend plugin: onnxruntime-web (WebAssembly) in Node', () => {
  const container = registerDefaultBackends(createBackendContainer());
  registerBackend(container, new WasmBackend());

  it('is registered through DI beside the defaults and resolves by name', async () => {
    const wasm = await resolveBackend(container, 'wasm');
    expect(wasm).toBeInstanceOf(WasmBackend);
    const probe = await probeBackend(wasm);
    expect(probe).toEqual({ available: true, device: 'WebAssembly (onnxruntime-web 1.30.0, 1 thread)' });
    // Registered in this container only.
    await expect(resolveBackend(registerDefaultBackends(createBackendContainer()), 'wasm')).rejects.toThrow(
      /No backend named 'wasm' is registered; the registered backends are 'cpu', 'cuda', 'webgpu'\./,
    );
  });

  // Measured: 1.7e-9 (classifier) and 1.5e-7 (detector): the WebAssembly kernels round
  // differently from the native ones in the last bits. 1e-5 leaves a wide margin.
  const TOLERANCE = 1e-5;
  for (const [name, file, h, w] of [
    ['classifier', REAL_MODELS.ocrClassifier, 48, 192],
    ['detector', REAL_MODELS.ocrDetector, 64, 96],
  ] as const)
    it(`runs the PaddleOCR ${name} like the cpu backend (max |difference| < ${TOLERANCE})`, async () => {
      const wasm = await resolveBackend(container, 'wasm');
      const cpu = await resolveBackend(container, 'cpu');
      expect(cpu).toBeInstanceOf(CpuBackend);
      const model = readFileSync(file);
      const input = strokeImage(h, w, 1);
      const expected = await runOnce(cpu, model, input);
      const actual = await runOnce(wasm, model, input);
      expect(actual.dims).toEqual(expected.dims);
      const diff = maxAbsDiff(expected, actual);
      console.log(`wasm vs cpu, PaddleOCR ${name}: max |difference| ${diff.toExponential(2)} (tolerance ${TOLERANCE})`);
      expect(diff).toBeLessThan(TOLERANCE);
    });

  it('runs QuantizeLinear/DequantizeLinear of every type it declares exactly like the cpu backend', async () => {
    const wasm = await resolveBackend(container, 'wasm');
    const cpu = await resolveBackend(container, 'cpu');
    const x: TensorData = { type: 'float32', data: Float32Array.from({ length: 16 }, (_, i) => -2.2 + 0.29 * i), dims: [4, 4] };
    for (const type of wasm.capabilities.qdqTypes) {
      const model = qdqModel(type);
      const expected = await runOnce(cpu, model, x);
      expect(maxAbsDiff(expected, await runOnce(wasm, model, x)), type).toBe(0);
    }
  });

  it('releases sessions once, and refuses to run a released one', async () => {
    const wasm = await resolveBackend(container, 'wasm');
    const session = await wasm.createSession(readFileSync(REAL_MODELS.ocrClassifier), { mode: 'simulate' });
    await Promise.all([session.release(), session.release()]);
    await expect(session.run({ x: strokeImage(48, 192, 0) })).rejects.toThrow(/session was released/);
  });
});
