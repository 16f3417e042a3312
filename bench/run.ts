// `pnpm bench`: calibration cost relative to plain float inference, and peak memory against the
// number of samples, for every encoding scheme on the PaddleOCR detector and recognizer.
//
// Time: for each model, plain inference (session creation plus one run per sample) and each
// scheme's calibration (statistics graph, session, runs, encodings) over the same samples, in
// this process, alternating, repeated; the ratio of medians is printed.
// Memory: each scheme calibrates 16 and then 256 samples in fresh processes; peak RSS of each.
//
// Environment: BENCH_SAMPLES (default 16), BENCH_REPEATS (default 3), BENCH_RSS=0 to skip the
// memory runs, BENCH_RSS_ALL=1 for every scheme on the detector too, BENCH_MODELS=detector,recognizer,
// BENCH_SCHEMES=minmax,tf-enhanced,…. tf-enhanced is also timed with histogramStride 17.
import os from 'node:os';
import { CpuBackend } from '@quantsim/backends';
import { checkFeeds, loadModel, quant } from 'quantsim';
import { calibrationRss, median } from './measure.js';
import { samples, WORKLOADS } from './workloads.js';

const count = Number(process.env.BENCH_SAMPLES ?? 16);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const models = (process.env.BENCH_MODELS ?? 'detector,recognizer').split(',');
const schemes = (process.env.BENCH_SCHEMES ?? 'minmax,tf-enhanced,percentile,mse,entropy').split(',');
const targets: Record<string, number> = { minmax: 1.25 };

console.log(
  `quantsim bench: ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(`${count} samples per measurement, median of ${repeats}\n`);
const rows: string[] = ['| model | scheme | plain s | calibrate s | ratio | target | met |', '|---|---|---|---|---|---|---|'];

for (const name of models) {
  const w = WORKLOADS[name];
  if (!w) throw new Error(`unknown model ${name}`);
  const model = await loadModel(w.model);
  const backend = new CpuBackend();
  const plain = async () => {
    const started = performance.now();
    const session = await backend.createSession(model.toBytes(), { mode: 'float' });
    for (const feeds of samples(w, count)) await session.run(checkFeeds(feeds, model.graph, 'bench'));
    await session.release();
    return (performance.now() - started) / 1000;
  };
  const calibrate = async (label: string) => {
    const [scheme = label, stride] = label.split('/');
    const started = performance.now();
    const sim = await quant(model)
      .scheme(scheme)
      .calibrate(() => samples(w, count), stride ? { histogramStride: Number(stride) } : {});
    const seconds = (performance.now() - started) / 1000;
    await sim.release();
    return seconds;
  };
  await plain();
  await calibrate('minmax');
  const times: Record<string, number[]> = { plain: [] };
  const configs = [...schemes, ...(schemes.includes('tf-enhanced') ? ['tf-enhanced/17'] : [])];
  for (let r = 0; r < repeats; r++) {
    (times.plain as number[]).push(await plain());
    for (const s of configs) {
      const list = times[s] ?? [];
      list.push(await calibrate(s));
      times[s] = list;
    }
  }
  const base = median(times.plain as number[]);
  for (const s of configs) {
    const t = median(times[s] as number[]);
    const [scheme = s, stride] = s.split('/');
    const target = targets[scheme] ?? 1.6;
    const ratio = t / base;
    const label = stride ? `${scheme} (histogramStride ${stride})` : scheme;
    rows.push(
      `| ${w.name} | ${label} | ${base.toFixed(2)} | ${t.toFixed(2)} | ${ratio.toFixed(2)}× | ≤ ${target}× | ${ratio <= target ? 'yes' : 'no'} |`,
    );
    console.log(rows[rows.length - 1]);
  }
}
console.log(`\n${rows.join('\n')}\n`);

if (process.env.BENCH_RSS !== '0') {
  const rss: string[] = [
    '| model | scheme | peak RSS, 16 samples | peak RSS, 256 samples | ratio | target ≤ 1.1× | ',
    '|---|---|---|---|---|---|',
  ];
  // The detector's histogram schemes take about a second per 640×640 sample; unless BENCH_RSS_ALL=1
  // its memory runs cover one scheme of each kind (minmax statistics, histogram statistics).
  for (const name of models)
    for (const s of name === 'detector' && process.env.BENCH_RSS_ALL !== '1'
      ? schemes.filter((x) => x === 'minmax' || x === 'tf-enhanced')
      : schemes) {
      const few = await calibrationRss(name, s, 16);
      const many = await calibrationRss(name, s, 256);
      const ratio = many.maxRssMiB / few.maxRssMiB;
      rss.push(
        `| ${WORKLOADS[name]?.name} | ${s} | ${few.maxRssMiB.toFixed(0)} MiB | ${many.maxRssMiB.toFixed(0)} MiB | ${ratio.toFixed(3)}× | ${ratio <= 1.1 ? 'yes' : 'no'} |`,
      );
      console.log(rss[rss.length - 1]);
    }
  console.log(`\n${rss.join('\n')}`);
}
