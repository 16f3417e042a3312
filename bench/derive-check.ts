// Writes the minmax CalibrationStats of the PaddleOCR classifier, recognizer and detector as JSON
// (-0 written as "-0"; for comparing two versions of the statistics graph with cmp), and with `count`, how many
// requested tensors the statistics graph derives instead of reducing, by op.
//
//   tsx --conditions=@quantsim/source bench/derive-check.ts <out-dir> [count]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildStatisticsGraph, type FeedsLike, loadModel, quant } from 'quantsim';
import { samples, WORKLOADS } from './workloads.js';

const [out = '.', mode = ''] = process.argv.slice(2);
const runs: [string, number][] = [
  ['classifier', 8],
  ['recognizer', 20],
  ['detector', 3],
];
for (const [name, n] of runs) {
  const w = WORKLOADS[name] as NonNullable<(typeof WORKLOADS)[string]>;
  const q = quant(w.model).scheme('minmax');
  if (mode === 'count') {
    const job = await q.statisticsJob();
    const built = buildStatisticsGraph(await loadModel(job.model), job.requests);
    const ops = new Map<string, number>();
    for (const o of built.outputs) if ('derived' in o && o.derived) ops.set(o.derived.op, (ops.get(o.derived.op) ?? 0) + 1);
    console.log(name, job.requests.length, 'requests, reduced', built.packed?.count, 'derived', Object.fromEntries(ops));
    continue;
  }
  const stats = await q.collectStats([...samples(w as never, n)] as FeedsLike[]);
  writeFileSync(
    path.join(out, `${name}.json`),
    JSON.stringify(stats, (_, v) => (Object.is(v, -0) ? '-0' : v)),
  );
  console.log(name, Object.keys(stats.tensors).length, 'tensors');
}
