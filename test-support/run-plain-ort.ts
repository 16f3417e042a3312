import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { FeedsLike } from 'quantsim';

/** ONNX Runtime's graph optimisation levels, plus `'default'`: no option given (which is 'all'). */
export type OrtLevel = 'default' | 'disabled' | 'basic' | 'extended' | 'all';

/**
 * Runs a model (a file or its bytes) in a plain onnxruntime-node session, as a deployment would:
 * no quantsim in between, Q/DQ fused into integer kernels where ORT can. Returns every output.
 */
export async function runPlainOrt(
  model: string | Uint8Array,
  feeds: FeedsLike,
  level: OrtLevel = 'default',
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(typeof model === 'string' ? readFileSync(model) : model, {
    logSeverityLevel: 3,
    ...(level === 'default' ? {} : { graphOptimizationLevel: level }),
  });
  try {
    const inputs = Object.fromEntries(
      Object.entries(feeds as Record<string, { type?: 'float32' | 'int64' | 'bool'; data: Float32Array; dims: number[] }>).map(
        ([k, v]) => [k, new ort.Tensor(v.type ?? 'float32', v.data, v.dims)],
      ),
    );
    const out = await session.run(inputs);
    return Object.fromEntries(session.outputNames.map((n) => [n, out[n]?.data as Float32Array]));
  } finally {
    await session.release();
  }
}
