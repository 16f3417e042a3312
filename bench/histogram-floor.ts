// What exact histograms of every activation cost per calibration sample, against plain inference,
// measured on this machine (BENCHMARKS.md, fourteenth session). For each model: how many values a
// sample's histograms take (fetched from the backend, and computed from fetched ones by derived
// ops), what binning them costs with the WebAssembly kernels on the model's own activations (each
// tensor on its own canonical grid, as calibration bins it, after the first sample set the grid),
// what computing the derived ones costs, and the median plain inference of one sample at the
// backend's default threads and at one thread. Binning and inference shared perfectly over the
// cores are a floor under a histogram scheme's time per sample that no scheduling removes.
//
//   tsx --conditions=@quantsim/source bench/histogram-floor.ts [model,...]   (default: recognizer)
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { buildStatisticsGraph, loadModel, quant } from 'quantsim';
import { binWithDerived, type DerivedValues } from '../packages/core/src/calibrate/derived-values.js';
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
  // What is computed from each fetched tensor, in dependency order (as collect.ts hands it on).
  const byTensor = new Map(built.outputs.map((o) => [o.tensor, o]));
  const rootOf = (t: string): string => {
    const o = byTensor.get(t);
    if (!o?.computed) return t;
    return rootOf(o.product ? o.product.from : (o.derived?.from as string));
  };
  const computed = new Map<string, DerivedValues[]>();
  const placed = new Set<string>();
  const place = (t: string) => {
    const o = byTensor.get(t);
    if (!o?.computed || placed.has(t)) return;
    placed.add(t);
    for (const from of o.product ? [o.product.from, o.product.other] : [o.derived?.from as string]) place(from);
    const list = computed.get(rootOf(t)) ?? [];
    list.push({ tensor: t, how: o.product ?? (o.derived as NonNullable<typeof o.derived>) });
    computed.set(rootOf(t), list);
  };
  for (const o of built.outputs) place(o.tensor);

  const sample = await session.run(feeds(0), names);
  const other = await session.run(feeds(1), names);
  let fetchedValues = 0;
  let computedValues = 0;
  for (const o of fetched) {
    const n = (sample[o.values as string] as ort.Tensor).data.length;
    fetchedValues += n;
    computedValues += n * (computed.get(o.tensor)?.length ?? 0);
  }
  // Bin sample 1 into accumulators whose grids sample 0 set, as in a calibration past its start.
  const timeBinning = (withDerived: boolean): number => {
    const accumulators = new Map<string, StatsAccumulator>();
    const accumulator = (t: string) => {
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
  const inference = async (threads?: number) => {
    const s = await ort.InferenceSession.create(job.model, {
      ...(threads ? { intraOpNumThreads: threads } : {}),
      logSeverityLevel: 3,
    });
    const f = { [s.inputNames[0] as string]: feeds(0)[session.inputNames[0] as string] as ort.Tensor };
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
  const plain = await inference();
  const plain1 = await inference(1);
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
}
