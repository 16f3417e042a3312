import {
  type FeedsLike,
  type GraphView,
  type TensorArray,
  type TensorData,
  type TensorMap,
  UnsupportedError,
} from '@quantsim/core';
import type { ConfigurationRunner, OutputsOf } from './evaluation.js';

type ArrayConstructorOf = new (length: number) => TensorArray;

/**
 * Evaluation samples stacked along the batch axis, `size` at a time, when every sample has a
 * batch of one and the same dims otherwise: one run per batch instead of one per sample. The
 * outputs are split back per sample (views, no copies). `undefined` when the samples cannot be
 * stacked, or when the model fixes the batch axis.
 */
export function stackedOutputs(samples: readonly FeedsLike[], size: number, graph: GraphView): OutputsOf | undefined {
  const first = samples[0] as Record<string, Partial<TensorData>> | undefined;
  if (!first || size < 2 || samples.length < 2) return undefined;
  const names = Object.keys(first);
  // A batch axis fixed in the model (a number) cannot take stacked samples.
  if (names.some((n) => typeof graph.tensor(n)?.shape?.[0] === 'number')) return undefined;
  for (const s of samples) {
    const feeds = s as Record<string, Partial<TensorData>>;
    for (const n of names) {
      const a = first[n];
      const b = feeds[n];
      if (!a?.dims || !b?.dims || !ArrayBuffer.isView(b.data) || b.dims[0] !== 1) return undefined;
      if (b.dims.length !== a.dims.length || b.dims.some((d, i) => d !== a.dims?.[i])) return undefined;
      if (b.data.constructor !== a.data?.constructor || (b.type ?? '') !== (a.type ?? '')) return undefined;
    }
    if (Object.keys(feeds).length !== names.length) return undefined;
  }
  const batches: { feeds: Record<string, TensorData>; count: number }[] = [];
  for (let start = 0; start < samples.length; start += size) {
    const chunk = samples.slice(start, start + size) as Record<string, TensorData>[];
    const feeds: Record<string, TensorData> = {};
    for (const n of names) {
      const one = chunk[0]?.[n] as TensorData;
      const Ctor = one.data.constructor as ArrayConstructorOf;
      const data = new Ctor(one.data.length * chunk.length);
      for (const [i, s] of chunk.entries())
        (data as Float32Array).set((s[n] as TensorData).data as Float32Array, i * one.data.length);
      feeds[n] = { ...(one.type ? { type: one.type } : {}), data, dims: [chunk.length, ...one.dims.slice(1)] } as TensorData;
    }
    batches.push({ feeds, count: chunk.length });
  }
  return async (run: ConfigurationRunner, concurrency = 1) => {
    const out: TensorMap[] = [];
    const results = await mapConcurrently(batches, concurrency, (b) => run(b.feeds));
    for (const [k, b] of batches.entries()) {
      const result = results[k] as TensorMap;
      const per: Record<string, TensorData>[] = Array.from({ length: b.count }, () => ({}));
      for (const [name, t] of Object.entries(result)) {
        if (t.dims[0] !== b.count)
          throw new UnsupportedError(`Output '${name}' has batch ${t.dims[0]} for ${b.count} stacked samples.`, {
            hint: 'The model does not keep the batch axis through to this output; analyze with batchSize: 1.',
          });
        const step = t.data.length / b.count;
        for (let i = 0; i < b.count; i++)
          (per[i] as Record<string, TensorData>)[name] = {
            type: t.type,
            data: t.data.subarray(i * step, (i + 1) * step) as TensorArray,
            dims: [1, ...t.dims.slice(1)],
          };
      }
      out.push(...per);
    }
    return out;
  };
}

/** One run per sample. */
export function sampleOutputs(samples: readonly FeedsLike[]): OutputsOf {
  return (run, concurrency = 1) => mapConcurrently(samples, concurrency, run);
}

/**
 * `fn` of every item, at most `concurrency` in flight (worker threads take them as they come),
 * results in the items' order.
 */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  return results;
}

/**
 * Whether stacking gives each sample the outputs it gets alone, up to float32 kernel rounding
 * (a relative 1e-3 of each output's largest magnitude): models that mix samples, or that fix
 * the batch inside (Reshape to 1, …), fail this and are run one sample at a time.
 */
export function sameOutputs(alone: readonly TensorMap[], stacked: readonly TensorMap[]): boolean {
  if (alone.length !== stacked.length) return false;
  for (const [i, a] of alone.entries()) {
    const b = stacked[i] as TensorMap;
    for (const [name, t] of Object.entries(a)) {
      const u = b[name];
      if (!u || u.data.length !== t.data.length) return false;
      if (!(t.data instanceof Float32Array) || !(u.data instanceof Float32Array)) continue;
      let peak = 0;
      let diff = 0;
      for (let k = 0; k < t.data.length; k++) {
        peak = Math.max(peak, Math.abs(t.data[k] as number));
        diff = Math.max(diff, Math.abs((t.data[k] as number) - (u.data[k] as number)));
      }
      if (!(diff <= 1e-3 * peak)) return false;
    }
  }
  return true;
}
