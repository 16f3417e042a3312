import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Backend, ModelBuilder, type QdqElementType, type TensorData } from '@quantsim/core';

/**
 * Mesa's Vulkan drivers want XDG_RUNTIME_DIR; give them a private one when the environment has
 * none, so that `pnpm test` works from any shell.
 */
export function ensureXdgRuntimeDir(): void {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = mkdtempSync(path.join(tmpdir(), 'quantsim-xdg-'));
}

/**
 * A deterministic picture of dark strokes on a light background, normalised the way PaddleOCR
 * expects ((pixel / 255 - 0.5) / 0.5, so in [-1, 1]), shaped [1, 3, h, w].
 */
export function strokeImage(h: number, w: number, seed: number): TensorData {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const stroke = y > h / 4 && y < (3 * h) / 4 && Math.sin(x * 0.9 + seed) * Math.cos(y * 0.7 - seed) > 0.3;
        data[(c * h + y) * w + x] = (stroke ? -0.8 : 0.9) + 0.05 * Math.sin(x * 0.13 + y * 0.29 + c + seed);
      }
  return { type: 'float32', data, dims: [1, 3, h, w] };
}

/** Runs a model once on a backend and returns its first output; the session is released. */
export async function runOnce(backend: Backend, model: Uint8Array, input: TensorData): Promise<TensorData> {
  const session = await backend.createSession(model, { mode: 'float' });
  try {
    const [name] = session.inputNames;
    const outputs = await session.run({ [name ?? 'x']: input });
    const [first] = Object.values(outputs);
    if (!first) throw new Error('the model returned no output');
    return first;
  } finally {
    await session.release();
  }
}

/** The largest absolute difference between two float tensors of the same shape. */
export function maxAbsDiff(a: TensorData, b: TensorData): number {
  if (a.data.length !== b.data.length) throw new Error(`shapes differ: [${a.dims}] and [${b.dims}]`);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return max;
}

const TYPE_CODES: Record<QdqElementType, number> = { int4: 22, uint4: 21, int8: 3, uint8: 2, int16: 5, uint16: 4 };
const RANGES: Record<QdqElementType, readonly [number, number]> = {
  int4: [-8, 7],
  uint4: [0, 15],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
};

/** Every Q/DQ element type. */
export const QDQ_TYPES = Object.keys(TYPE_CODES) as QdqElementType[];

/**
 * A tiny opset-21 model over x: float32 [4, 4]. `qdq`: y = DequantizeLinear(QuantizeLinear(x))
 * with element type `type` (how core simulates an activation). `dq`: y = x +
 * DequantizeLinear(w) with w a constant of that type (how core stores a weight). Integer
 * constants are int64 Constants cast to the type, folded when the session is optimised.
 */
export function qdqModel(type: QdqElementType, kind: 'qdq' | 'dq'): Uint8Array {
  const b = new ModelBuilder({ opset: 21 });
  const [lo, hi] = RANGES[type];
  const cast = (name: string, dims: number[], values: number[]) =>
    b.node('Cast', [b.constant(`${name}_i64`, dims, values, 'int64')], { outputs: [name], attrs: { to: TYPE_CODES[type] } });
  const x = b.input('x', 'float32', [4, 4]);
  const scale = b.initializer('scale', [], [4 / (hi - lo)]);
  const zp = cast('zp', [], [Math.round((lo + hi) / 2)]);
  if (kind === 'dq') {
    const w = cast(
      'w',
      [4, 4],
      Array.from({ length: 16 }, (_, i) => lo + Math.floor(((hi - lo) * i) / 15)),
    );
    b.output(b.node('Add', [b.node('DequantizeLinear', [w, scale, zp]), x], { outputs: ['y'] }), 'float32', [4, 4]);
  } else {
    const q = b.node('QuantizeLinear', [x, scale, zp]);
    b.output(b.node('DequantizeLinear', [q, scale, zp], { outputs: ['y'] }), 'float32', [4, 4]);
  }
  return b.build(`<${kind} ${type}>`).toBytes();
}

/** The input for {@link qdqModel}: 16 values from -2.2 to 2.2, some past the quantization range. */
export const QDQ_INPUT: TensorData = {
  type: 'float32',
  data: Float32Array.from({ length: 16 }, (_, i) => -2.2 + (4.4 * i) / 15),
  dims: [4, 4],
};
