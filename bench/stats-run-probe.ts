// Per-run cost of the recognizer's statistics graph against the plain (prepared) model, one
// session each, in this process (BENCHMARKS.md, seventh session). Prints creation time, the median
// run (after 2 warm-ups) and CPU per run; with `profile`, ONNX Runtime's per-op kernel time.
//
//   tsx --conditions=@quantsim/source bench/stats-run-probe.ts <variant,...> [batch] [runs] [profile]
//
// Variants: plain, original (the model file as shipped), stats (buildStatisticsGraph), reduceall
// (buildStatisticsGraph with derive: false, every tensor reduced as before derivation), and stats
// with nodes stripped: nosize, nosum, nosumsize; axes (reductions with axes: [0]); twostage (each
// reduction over the tensor's last axis first, then over the rest). `batch` stacks
// that many samples along the batch axis. Environment: PROBE_THREADS (intra-op threads),
// PROBE_LEVEL (graph optimisation level), PROBE_NOSPIN=1 (session.intra_op.allow_spinning = 0),
// PROBE_PARALLEL=<inter-op threads> (executionMode 'parallel').
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildStatisticsGraph, loadModel, quant } from 'quantsim';
import { makeAttribute } from '../packages/core/src/onnx/factory.js';
import { WORKLOADS } from './workloads.js';

const [variantsArg = 'plain,stats', batchArg = '1', runsArg = '10', profile = ''] = process.argv.slice(2);
const w = WORKLOADS.recognizer as (typeof WORKLOADS)[string];
const job = await quant(w.model).scheme('minmax').statisticsJob();
const prepared = await loadModel(job.model);
const batch = Number(batchArg);
const one = w.sample(0).x as { data: Float32Array; dims: number[] };
const data = new Float32Array(one.data.length * batch);
for (let b = 0; b < batch; b++) data.set((w.sample(b).x as { data: Float32Array }).data, b * one.data.length);
const dims = [batch, ...one.dims.slice(1)];
const threads = process.env.PROBE_THREADS ? { intraOpNumThreads: Number(process.env.PROBE_THREADS) } : {};
const profiles = path.join(os.tmpdir(), 'quantsim-stats-probe');
if (profile) mkdirSync(profiles, { recursive: true });
const level = (process.env.PROBE_LEVEL ?? 'all') as 'all';
const bytesOf = (v: string): Uint8Array => {
  if (v === 'plain') return job.model;
  if (v === 'original') return readFileSync(w.model);
  const built = buildStatisticsGraph(prepared, job.requests, { derive: v !== 'reduceall' }).model;
  if (v === 'stats' || v === 'reduceall') return built.toBytes({ inlineExternal: true });
  const g = built.proto.graph as { node: { opType: string; input: string[]; output: string[] }[]; output: { name: string }[] };
  // Variants: strip the nodes whose output ends with these suffixes (and their uses in the pack).
  const strip: Record<string, string[]> = {
    nosize: ['::quantsim_size', '::quantsim_size_f', 'quantsim::sizes'],
    nosum: ['::quantsim_sum'],
    nosumsize: ['::quantsim_sum', '::quantsim_size', '::quantsim_size_f', 'quantsim::sizes'],
  };
  const suffixes = strip[v] ?? [];
  const gone = (name: string) => suffixes.some((x) => name.endsWith(x));
  g.node = g.node.filter((n) => !gone(n.output[0] as string));
  for (const n of g.node) if (n.opType === 'Concat') n.input = n.input.filter((i) => !gone(i));
  g.output = g.output.filter((o) => !gone(o.name));
  if (v === 'twostage') {
    // Reduce the last axis of the tensor itself first (ONNX Runtime splits that over threads),
    // then the rest.
    const out: typeof g.node = [];
    for (const n of g.node) {
      const input = n.input[0] as string;
      if (!n.opType.startsWith('Reduce') || !input.endsWith('::quantsim_flat')) {
        out.push(n);
        continue;
      }
      const o = n.output[0] as string;
      const tensor = input.slice(0, -'::quantsim_flat'.length);
      const first = structuredClone(n);
      first.input = [tensor];
      first.output = [`${o}::stage1`];
      (first as unknown as { attribute: unknown[] }).attribute.push(makeAttribute('axes', [-1]));
      const reshape = structuredClone(n);
      reshape.opType = 'Reshape';
      reshape.input = [`${o}::stage1`, 'quantsim::flat_N'];
      reshape.output = [`${o}::stage1f`];
      (reshape as unknown as { attribute: unknown[] }).attribute = [];
      n.input = [`${o}::stage1f`];
      out.push(first, reshape, n);
    }
    g.node = out;
  }
  if (v === 'axes')
    for (const n of g.node)
      if (n.opType.startsWith('Reduce') && n.output[0]?.includes('::quantsim_'))
        (n as unknown as { attribute: unknown[] }).attribute.push(makeAttribute('axes', [0]));
  return built.toBytes({ inlineExternal: true });
};
for (const v of variantsArg.split(',')) {
  const bytes = bytesOf(v);
  const c0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: level,
    logSeverityLevel: 3,
    ...threads,
    ...(profile ? { enableProfiling: true, profileFilePrefix: path.join(profiles, v) } : {}),
    ...(process.env.PROBE_PARALLEL
      ? { executionMode: 'parallel' as const, interOpNumThreads: Number(process.env.PROBE_PARALLEL) }
      : {}),
    ...(process.env.PROBE_NOSPIN ? { extra: { session: { 'intra_op.allow_spinning': '0' } } } : {}),
  });
  const created = performance.now() - c0;
  const feeds = { [session.inputNames[0] as string]: new ort.Tensor('float32', data, dims) };
  const fetches = session.outputNames.filter((n) => n.startsWith('quantsim::s') || v === 'plain' || v === 'original');
  for (let i = 0; i < 2; i++) await session.run(feeds, fetches);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < Number(runsArg); i++) {
    const t = performance.now();
    await session.run(feeds, fetches);
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const med = times[times.length >> 1] as number;
  console.log(
    `${v} batch ${batch}: create ${created.toFixed(0)} ms, run median ${med.toFixed(1)} ms (${(med / batch).toFixed(1)} per sample), cpu/run ${((cpu.user + cpu.system) / 1000 / Number(runsArg)).toFixed(1)} ms`,
  );
  if (profile) {
    session.endProfiling();
    const file = path.join(
      profiles,
      readdirSync(profiles)
        .filter((f) => f.startsWith(`${v}_`))
        .sort()
        .pop() as string,
    );
    const events = JSON.parse(readFileSync(file, 'utf8')) as {
      cat: string;
      name: string;
      dur: number;
      args?: { op_name?: string };
    }[];
    const byOp = new Map<string, { dur: number; n: number }>();
    for (const e of events)
      if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
        const op = e.args?.op_name ?? '?';
        const s = byOp.get(op) ?? { dur: 0, n: 0 };
        s.dur += e.dur;
        s.n++;
        byOp.set(op, s);
      }
    const total = Number(runsArg) + 2;
    console.log(
      [...byOp]
        .sort((a, b) => b[1].dur - a[1].dur)
        .slice(0, 25)
        .map(([op, s]) => `  ${op}: ${(s.dur / 1000 / total).toFixed(2)} ms/run, ${(s.n / total).toFixed(0)} nodes`)
        .join('\n'),
    );
  }
  await session.release();
}
