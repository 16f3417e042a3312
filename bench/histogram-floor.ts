// What exact histograms of every activation cost per calibration sample, against plain inference,
// measured on this machine (BENCHMARKS.md, fourteenth session). For each model: how many values a
// sample's histograms take (fetched from the backend, and computed from fetched ones by derived
// ops), what binning them costs with the WebAssembly kernels on the model's own activations (each
// tensor on its own canonical grid, as calibration bins it, after the first sample set the grid),
// what computing the derived ones costs, the median plain inference of one sample (the model
// file at the backend's default threads), and that of the prepared model at one thread. Binning and inference shared perfectly over the
// cores are a floor under a histogram scheme's time per sample that no scheduling removes.
//
//   tsx --conditions=@quantsim/source bench/histogram-floor.ts [model,...]   (default: recognizer)
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { buildStatisticsGraph, loadModel, quant } from 'quantsim';
import { computationOrder } from '../packages/core/src/calibrate/collect.js';
import { binWithDerived, type DerivedRange, type DerivedValues } from '../packages/core/src/calibrate/derived-values.js';
import { wasmKernelsStatus } from '../packages/core/src/calibrate/kernels.js';
import { createStatsAccumulator, type StatsAccumulator } from '../packages/core/src/calibrate/stats.js';
import { WORKLOADS } from './workloads.js';

const models = (process.argv[2] ?? 'recognizer').split(',');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
console.log(`WebAssembly kernels: ${wasmKernelsStatus().available ? 'on' : `off (${wasmKernelsStatus().reason})`}`);

for (const name of models) {
  const w = WORKLOADS[name];
  if (!w) throw new Error(`unknown model ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`);
  const job = await quant(w.model).scheme('percentile').statisticsJob();
  const prepared = await loadModel(job.model);
  const built = buildStatisticsGraph(prepared, job.requests, { wholeRanges: false });
  const fetched = built.outputs.filter((o) => o.values !== undefined);
  const names = fetched.map((o) => o.values as string);
  const session = await ort.InferenceSession.create(built.model.toBytes({ inlineExternal: true }), {
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  const feeds = (i: number) => {
    const x = w.sample(i).x as { data: Float32Array; dims: number[] };
    return { [session.inputNames[0] as string]: new ort.Tensor('float32', x.data, x.dims) };
  };
  // What is computed from each fetched tensor, in the order collectStats hands it to the binning.
  const computed = new Map<string, DerivedValues[]>(
    [...computationOrder(built.outputs).computedFrom].map(([root, list]) => [
      root,
      list.map((c) => ({ tensor: c.tensor, how: c.product ?? (c.derived as DerivedRange) })),
    ]),
  );

  const sample = await session.run(feeds(0), names);
  const other = await session.run(feeds(1), names);
  let fetchedValues = 0;
  let computedValues = 0;
  for (const o of fetched) {
    const n = (sample[o.values as string] as ort.Tensor).data.length;
    fetchedValues += n;
    computedValues += n * (computed.get(o.tensor)?.length ?? 0);
  }
  // The inside of each decomposed hardswish, y · clip(y + 3, 0, 6) / 6: its y + 3, clip and
  // product, which a runtime executing HardSwish as one op would not quantize (the plan question
  // BENCHMARKS.md raises). Their values are still computed (the output needs them), not binned.
  const byTensor = new Map(built.outputs.map((o) => [o.tensor, o]));
  const inside = new Set<string>();
  for (const o of built.outputs) {
    const p = o.product;
    if (!p) continue;
    const clip = byTensor.get(p.other)?.derived;
    const plus3 = clip?.op === 'clip' && clip.lo === 0 && clip.hi === 6 ? byTensor.get(clip.from)?.derived : undefined;
    const divided = built.outputs.some((d) => d.derived?.from === o.tensor && d.derived.op === 'div' && d.derived.constant === 6);
    if (clip && plus3?.op === 'add' && plus3.constant === 3 && plus3.from === p.from && divided)
      inside.add(o.tensor).add(p.other).add(clip.from);
  }
  let insideValues = 0;
  for (const o of fetched) {
    const n = (sample[o.values as string] as ort.Tensor).data.length;
    insideValues += n * (computed.get(o.tensor) ?? []).filter((c) => inside.has(c.tensor)).length;
  }
  const skipped: StatsAccumulator = {
    add: () => {},
    toStats: () => ({ count: 0, min: 0, max: 0, nonFinite: 0 }),
    count: 0,
    nonFinite: 0,
  };
  // Bin sample 1 into accumulators whose grids sample 0 set, as in a calibration past its start.
  const timeBinning = (withDerived: boolean, skip: ReadonlySet<string> = new Set()): number => {
    const accumulators = new Map<string, StatsAccumulator>();
    const accumulator = (t: string) => {
      if (skip.has(t)) return skipped;
      let a = accumulators.get(t);
      if (!a) {
        a = createStatsAccumulator({ histogram: true });
        accumulators.set(t, a);
      }
      return a;
    };
    const run = (result: typeof sample) => {
      for (const o of fetched) {
        const values = (result[o.values as string] as ort.Tensor).data as Float32Array;
        binWithDerived(accumulator, o.tensor, values, undefined, withDerived ? (computed.get(o.tensor) ?? []) : []);
      }
    };
    run(sample);
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t = performance.now();
      run(other);
      times.push(performance.now() - t);
    }
    return median(times);
  };
  const fetchedOnly = timeBinning(false);
  const all = timeBinning(true);
  const withoutInside = inside.size > 0 ? timeBinning(true, inside) : undefined;
  const inference = async (model: string | Uint8Array, threads?: number) => {
    const options = { ...(threads ? { intraOpNumThreads: threads } : {}), logSeverityLevel: 3 as const };
    const s =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(model, options);
    const x = w.sample(0).x as { data: Float32Array; dims: number[] };
    const f = { [s.inputNames[0] as string]: new ort.Tensor('float32', x.data, x.dims) };
    await s.run(f);
    const times: number[] = [];
    for (let r = 0; r < 15; r++) {
      const t = performance.now();
      await s.run(f);
      times.push(performance.now() - t);
    }
    await s.release();
    return median(times);
  };
  // Plain: the model file, as bench/child.ts runs it; one thread: the prepared model (BatchNorm
  // folded), which the statistics session runs at one thread beside the binning thread.
  const plain = await inference(w.model);
  const plain1 = await inference(job.model, 1);
  await session.release();
  const total = fetchedValues + computedValues;
  console.log(`\n${w.name}: ${built.outputs.filter((o) => o.values || o.computed).length} histograms`);
  console.log(
    `  values a sample: ${(total / 1e6).toFixed(1)} M (${(fetchedValues / 1e6).toFixed(1)} M fetched, ${(computedValues / 1e6).toFixed(1)} M computed from them)`,
  );
  console.log(
    `  binning the fetched values: ${fetchedOnly.toFixed(1)} ms (${((fetchedOnly / fetchedValues) * 1e6).toFixed(2)} ns a value)`,
  );
  console.log(`  computing and binning all: ${all.toFixed(1)} ms (${((all / total) * 1e6).toFixed(2)} ns a value), one core`);
  console.log(`  plain inference: ${plain.toFixed(1)} ms (default threads), ${plain1.toFixed(1)} ms (one thread)`);
  const cores = os.availableParallelism();
  const floor = (all + plain1) / cores;
  console.log(
    `  floor on ${cores} cores, the binning and one-thread inference shared perfectly: ${floor.toFixed(1)} ms a sample = ${(floor / plain).toFixed(2)}× plain`,
  );
  if (withoutInside !== undefined) {
    const f = (withoutInside + plain1) / cores;
    console.log(
      `  without the histograms of the ${inside.size / 3} decomposed hardswishes' x + 3, clip and product (${inside.size} histograms, ${(insideValues / 1e6).toFixed(1)} M values, still computed): ${withoutInside.toFixed(1)} ms, floor ${f.toFixed(1)} ms = ${(f / plain).toFixed(2)}× plain`,
    );
  }
}
