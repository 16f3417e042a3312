import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { samples, WORKLOADS } from '../../../bench/workloads.js';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { seededRandom } from '../../../test-support/random.js';
import { chromiumMissingReason, launchChromium } from '../../cli/test/support/headless-chromium.js';
import {
  type AmpCandidate,
  analyze,
  autoMixedPrecision,
  candidateName,
  costAt,
  createSwitchableSim,
  type FeedsLike,
  type LayerAnalysis,
  ModelBuilder,
  quant,
  quantizerUnit,
  sameOutputs,
  sampleOutputs,
  stackedOutputs,
  type TensorMap,
  type ThreadPoolReport,
  type UnitCost,
  unitCosts,
} from '../src/index.js';

/** Three Conv+Relu layers; conv2's output channel 0 has weights 1000× the others. */
function modelWithBadLayer() {
  const r = seededRandom(21);
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 4, 12, 12]);
  const conv = (name: string, input: string, cin: number, cout: number, scale: (c: number) => number) => {
    const w = Array.from(
      { length: cout * cin * 9 },
      (_, i) => (r() * 2 - 1) * Math.sqrt(3 / (cin * 9)) * scale(Math.floor(i / (cin * 9))),
    );
    const bias = Array.from({ length: cout }, () => r() * 0.1);
    const y = b.node(
      'Conv',
      [input, b.initializer(`${name}.w`, [cout, cin, 3, 3], w), b.initializer(`${name}.b`, [cout], bias)],
      {
        name,
        outputs: [`${name}_out`],
        attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] },
      },
    );
    return b.node('Relu', [y], { name: `${name}.relu`, outputs: [`${name}.relu_out`] });
  };
  const c1 = conv('conv1', x, 4, 8, () => 1);
  const c2 = conv('conv2', c1, 8, 8, (c) => (c === 0 ? 1000 : 1));
  const c3 = conv('conv3', c2, 8, 4, () => 1);
  b.output(c3, 'float32', [1, 4, 12, 12]);
  return b.build();
}

function images(count: number, seed: number, channels = 4, side = 12) {
  const r = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    x: { data: Float32Array.from({ length: channels * side * side }, () => r() * 2 - 1), dims: [1, channels, side, side] },
  }));
}

/**
 * `depth` Conv+Relu layers of 4 channels on 8×8; in each layer of `bad`, output channel 0's
 * weights are that many times the others (so that per-tensor weights lose the other channels).
 */
function deepModel(depth: number, bad: Readonly<Record<number, number>>) {
  const r = seededRandom(33);
  const b = new ModelBuilder({ opset: 13 });
  let x = b.input('x', 'float32', [1, 4, 8, 8]);
  for (let k = 0; k < depth; k++) {
    const name = `conv${k}`;
    const w = Array.from({ length: 4 * 4 * 9 }, (_, i) => (r() * 2 - 1) * Math.sqrt(6 / 36) * (i < 36 ? (bad[k] ?? 1) : 1));
    const y = b.node(
      'Conv',
      [x, b.initializer(`${name}.w`, [4, 4, 3, 3], w), b.initializer(`${name}.b`, [4], [0.05, 0.1, 0.02, 0.08])],
      { name, outputs: [`${name}_out`], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
    );
    // Channel 0 comes back to the others' scale, so that one bad layer does not spoil the rest.
    const scale = b.initializer(`${name}.rescale`, [1, 4, 1, 1], [1 / (bad[k] ?? 1), 1, 1, 1]);
    const z = b.node('Mul', [y, scale], { name: `${name}.rescale`, outputs: [`${name}.rescale_out`] });
    x = b.node('Relu', [z], { name: `${name}.relu`, outputs: [`${name}.relu_out`] });
  }
  b.output(x, 'float32', [1, 4, 8, 8]);
  return b.build();
}

/** W8A8 and W16A16 simulations of the model with a bad layer, from one statistics pass. */
async function eightAndSixteenBit() {
  const builder = quant(modelWithBadLayer());
  const stats = await builder.collectStats(images(4, 1));
  const w8 = await builder.fromStats(stats);
  const w16 = await builder.activations(16).params(16).fromStats(stats);
  return {
    w8,
    w16,
    variants: [
      { name: 'W8A8', sim: w8 },
      { name: 'W16A16', sim: w16 },
    ],
  };
}

describe('analyze', () => {
  it('ranks the layer with per-tensor weights of very different channel ranges worst, says why, and writes an HTML report', async () => {
    const report = await analyze(quant(modelWithBadLayer()).defaults({ perChannel: false }), {
      calibration: images(8, 1),
      evaluation: images(4, 2),
    });
    expect(report.metric.name).toBe('output SQNR');
    expect(report.model.float).toBe(Number.POSITIVE_INFINITY);
    const names = report.layers.map((l) => l.layer);
    expect(names[0]).toBe('conv2');
    const finding = report.findings.find((f) => f.kind === 'per-channel-range');
    expect(finding?.layer).toBe('conv2');
    expect(finding?.fix).toMatch(/\.layers\("conv2"\)\.perChannel\(\)/);
    expect(finding?.detail).toMatch(/span 1:\d+/);
    // Only conv2's weights quantized, per channel, is better than per tensor (what `loss` measures).
    expect(finding?.loss).toBeGreaterThan(0);
    expect(report.layers[0]?.findings.some((f) => f.kind === 'per-channel-range')).toBe(true);

    const missing = chromiumMissingReason();
    if (missing) {
      console.log(`skipping the browser check: ${missing}`);
      return;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quantsim-analyze-'));
    const file = path.join(dir, 'report.html');
    await report.writeHtml(file);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith('file:')) requests.push(req.url());
      });
      await page.goto(`file://${file}`);
      const charts = await page.$$eval('svg.chart', (svgs) =>
        svgs.map((s) => {
          const box = s.getBoundingClientRect();
          return {
            width: box.width,
            height: box.height,
            ticks: s.querySelectorAll('text.tick').length,
            axis: s.querySelector('text.axis-label')?.textContent ?? '',
            values: [...s.querySelectorAll('text.bar-value')].map((t) => t.textContent ?? ''),
          };
        }),
      );
      expect(charts.length).toBe(3);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(100);
        expect(c.height).toBeGreaterThan(50);
        expect(c.ticks).toBeGreaterThan(1);
        expect(c.axis).toMatch(/output SQNR dB/);
        expect(c.values.length).toBe(report.layers.length);
      }
      // Sorting: clicking "only this quantized" orders the rows by that value.
      await page.click('#layers th:nth-child(8)');
      const sorted = await page.$$eval('#layers tbody tr', (rows) =>
        rows.map((r) => Number((r.cells[7] as unknown as { dataset: { sort?: string } }).dataset.sort)),
      );
      expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
      await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('stacks evaluation samples along a free batch axis, with the same outputs as single runs', async () => {
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', ['N', 6]);
    const r = seededRandom(4);
    const w = b.initializer(
      'w',
      [6, 3],
      Array.from({ length: 18 }, () => r() - 0.5),
    );
    b.output(b.node('MatMul', [x, w], { name: 'mm', outputs: ['y'] }), 'float32', ['N', 3]);
    const sim = await quant(b.build()).calibrate([{ x: { data: new Float32Array(6).fill(1), dims: [1, 6] } }]);
    const samples = Array.from({ length: 5 }, (_, i) => ({
      x: { data: Float32Array.from({ length: 6 }, (_, k) => i - k), dims: [1, 6] },
    }));
    const stacked = stackedOutputs(samples, 2, sim.floatModel.graph);
    expect(stacked).toBeDefined();
    const run = (f: FeedsLike) => sim.run(f);
    const alone = await sampleOutputs(samples)(run);
    const together = await (stacked as NonNullable<typeof stacked>)(run);
    expect(together.map((t) => t.y?.dims)).toEqual(alone.map((t) => t.y?.dims));
    expect(sameOutputs(alone, together)).toBe(true);
    // A model whose batch axis is fixed at 1 is run one sample at a time.
    expect(stackedOutputs(images(3, 1), 2, modelWithBadLayer().graph)).toBeUndefined();
    await sim.release();
  });

  it('screens a deep model in blocks: the same worst layers as the exhaustive analysis, from fewer configurations', async () => {
    const model = deepModel(28, { 6: 40, 13: 12, 21: 20 });
    const options = { calibration: images(6, 5, 4, 8), evaluation: images(4, 6, 4, 8), detailedLayers: 3 };
    const builder = quant(model).defaults({ perChannel: false });
    const full = await analyze(builder, { ...options, search: 'exhaustive' });
    const screened = await analyze(builder, options);
    expect(full.search).toBe('exhaustive');
    expect(screened.search).toBe('screened');
    console.log(
      `deep model, ${full.layers.length} layers: ${screened.configurations} configurations screened, ${full.configurations} exhaustive`,
    );
    expect(screened.configurations).toBeLessThan(full.configurations);
    expect(full.layers.every((l) => l.screened === undefined)).toBe(true);
    expect(screened.layers.some((l) => l.screened !== undefined)).toBe(true);

    const byName = new Map(full.layers.map((l) => [l.layer, l]));
    const worst = (layers: readonly LayerAnalysis[], of: (l: LayerAnalysis) => number) =>
      [...layers].sort((a, b) => of(a) - of(b)).slice(0, 3);
    // The three worst alone and the three that leaving in float helps most: the same layers, each
    // scored alone (a setting of the same switches gives the same outputs).
    for (const of of [(l: LayerAnalysis) => l.onlyThisQuantized, (l: LayerAnalysis) => -l.allButThisQuantized]) {
      const mine = worst(screened.layers, of);
      expect(mine.map((l) => l.layer)).toEqual(worst(full.layers, of).map((l) => l.layer));
      for (const l of mine) {
        expect(l.screened).toBeUndefined();
        expect(of(l)).toBe(of(byName.get(l.layer) as LayerAnalysis));
      }
    }
    // "All but this" is every layer's own; a screened "only this" is its block's, shared by the
    // layers of the block. Where quantization noises add, a layer's own is at least as good: the
    // count of those that are is printed.
    let blockScores = 0;
    let atLeastAsGood = 0;
    for (const l of screened.layers) {
      const own = byName.get(l.layer) as LayerAnalysis;
      expect(l.allButThisQuantized).toBe(own.allButThisQuantized);
      const block = l.screened?.onlyThisQuantized;
      if (!block) {
        expect(l.onlyThisQuantized).toBe(own.onlyThisQuantized);
        continue;
      }
      blockScores++;
      expect(block.length).toBeGreaterThan(1);
      expect(block).toContain(l.layer);
      // Members measured alone afterwards (for a finding, or as most helped) have their own.
      for (const m of screened.layers.filter((o) => block.includes(o.layer) && o.screened))
        expect(m.onlyThisQuantized).toBe(l.onlyThisQuantized);
      if (own.onlyThisQuantized >= l.onlyThisQuantized) atLeastAsGood++;
    }
    expect(blockScores).toBeGreaterThan(0);
    console.log(`deep model: ${blockScores} layers with a block's score, ${atLeastAsGood} of them at least as good alone`);
    // The per-channel findings of the three bad layers survive the screening.
    const found = (r: typeof full) =>
      r.findings
        .filter((f) => f.kind === 'per-channel-range')
        .map((f) => f.layer)
        .sort();
    expect(found(screened)).toEqual(found(full));
    expect(found(full)).toEqual(expect.arrayContaining(['conv13', 'conv21', 'conv6']));
    expect(screened.toHtml()).toMatch(/class="bound"[^>]*>≥ /);
  });

  it('draws infinite SQNR as a marker, not as the longest bar', async () => {
    const { horizontalBarChart } = await import('../src/index.js');
    const svg = horizontalBarChart({
      title: 't',
      axisLabel: 'dB',
      bars: [
        { label: 'a', value: 20 },
        { label: 'b', value: Number.POSITIVE_INFINITY },
      ],
    });
    expect(svg.match(/<rect class="bar"/g)?.length).toBe(1);
    expect(svg).toMatch(/class="infinite"[^>]*>∞</);
    expect(svg).toMatch(/∞ \(identical\)/);
  });
});

/** An AMP `evaluate`: output SQNR of `evaluation` against the float model's outputs. */
async function sqnrAgainstFloat(builder: ReturnType<typeof quant>, calibration: FeedsLike[], evaluation: FeedsLike[]) {
  const reference: TensorMap[] = [];
  const probe = await builder.calibrate(calibration);
  for (const e of evaluation) reference.push(await probe.runFloat(e as never));
  await probe.release();
  return async (runner: { run(f: never): Promise<TensorMap> }) => {
    const out: TensorMap[] = [];
    for (const e of evaluation) out.push(await runner.run(e as never));
    return outputSqnr(reference, out);
  };
}

function outputSqnr(reference: readonly TensorMap[], outputs: readonly TensorMap[]): number {
  let s = 0;
  let n = 0;
  for (const [i, ref] of reference.entries())
    for (const [name, t] of Object.entries(ref)) {
      const a = t.data as Float32Array;
      const b = outputs[i]?.[name]?.data as Float32Array;
      for (let k = 0; k < a.length; k++) {
        s += (a[k] as number) ** 2;
        n += ((a[k] as number) - (b[k] as number)) ** 2;
      }
    }
  return n === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(s / n);
}

describe('analyze on the PaddleOCR recognizer', () => {
  // About 800 configurations; minutes on an idle multi-core machine, hours on a shared 2-core one.
  const long = process.env.QUANTSIM_LONG_TESTS === '1';
  it.skipIf(!long)(
    'finds, by itself, the Conv whose per-tensor weights ruin it, and says to go per channel',
    async () => {
      const w = WORKLOADS.recognizer;
      if (!w) throw new Error('no recognizer workload');
      const report = await analyze(quant(w.model).defaults({ perChannel: false }), {
        calibration: () => samples(w, 8),
        evaluation: [...samples(w, 4)],
      });
      const worst = report.layers[0];
      console.log(
        `recognizer: worst ${worst?.layer} (${worst?.opType}); findings: ${report.findings
          .slice(0, 3)
          .map((f) => `${f.kind} ${f.layer}`)
          .join(', ')}`,
      );
      expect(worst?.opType).toBe('Conv');
      const finding = report.findings.find((f) => f.kind === 'per-channel-range' && f.layer === worst?.layer);
      expect(finding?.fix).toMatch(/perChannel\(\)/);
    },
    3_600_000,
  );
  if (!long) console.log('skipping the recognizer analysis: set QUANTSIM_LONG_TESTS=1 (about 800 configurations)');
});

describe('evaluations on worker threads', () => {
  it('give the analysis and the AMP search of one thread, number for number', async () => {
    const builder = quant(modelWithBadLayer()).defaults({ perChannel: false });
    const options = { calibration: images(8, 1), evaluation: images(4, 2) };
    const one = await analyze(builder, options);
    const two = await analyze(builder, { ...options, workers: 2 });
    const scores = (r: typeof one) => [
      r.model,
      r.layers.map((l) => [l.layer, l.onlyThisQuantized, l.allButThisQuantized, l.weightsOnly, l.activationsOnly, l.sixteenBit]),
    ];
    expect(scores(two)).toEqual(scores(one));
    expect(two.findings.map((f) => [f.layer, f.kind])).toEqual(one.findings.map((f) => [f.layer, f.kind]));

    const evaluate = await sqnrAgainstFloat(builder, options.calibration, images(4, 3));
    const candidates: AmpCandidate[] = [
      { activations: 4, params: 4 },
      { activations: 8, params: 8 },
    ];
    const amp = { calibration: options.calibration, evaluate, better: 'higher' as const, allowedDrop: 3, candidates };
    const a = await autoMixedPrecision(builder, amp);
    const b = await autoMixedPrecision(builder, { ...amp, workers: 2 });
    try {
      expect(b.front).toEqual(a.front);
      expect(b.plan.map((e) => [e.group, candidateName(e.candidate)])).toEqual(
        a.plan.map((e) => [e.group, candidateName(e.candidate)]),
      );
      expect(b.score).toBe(a.score);
    } finally {
      await Promise.all([a.sim.release(), b.sim.release()]);
    }
  });

  it('runs a switchable simulation bit for bit as in one thread, and rejects a bad worker count', async () => {
    const { w8, w16, variants } = await eightAndSixteenBit();
    const here = await createSwitchableSim(variants);
    const threads = await createSwitchableSim(variants, { workers: 2 });
    try {
      expect([here.concurrency, threads.concurrency]).toEqual([1, 2]);
      const settings = [here.setting(() => 0), here.setting(() => 1), here.setting((g) => (g.kind === 'params' ? 0 : undefined))];
      for (const feeds of images(3, 5))
        for (const setting of settings) {
          const [a, b] = await Promise.all([here.run(feeds, setting), threads.run(feeds, setting)]);
          expect(Array.from(b['conv3.relu_out']?.data as Float32Array)).toEqual(
            Array.from(a['conv3.relu_out']?.data as Float32Array),
          );
        }
      await expect(createSwitchableSim(variants, { workers: 0 })).rejects.toThrow(
        /createSwitchableSim\(\): workers must be a positive integer or 'auto'/,
      );
    } finally {
      await Promise.all([here.release(), threads.release(), w8.release(), w16.release()]);
    }
  });

  it('caps the evaluation threads to free memory after the first run, with a warning', async () => {
    const { w8, w16, variants } = await eightAndSixteenBit();
    const here = await createSwitchableSim(variants);
    const warnings: string[] = [];
    const reports: ThreadPoolReport[] = [];
    const threads = await createSwitchableSim(variants, {
      workers: 3,
      warn: (m) => warnings.push(m),
      onWorkers: (r) => reports.push(r),
    });
    // Less free memory than one more thread costs: the first thread goes on alone.
    const freemem = vi.spyOn(os, 'freemem').mockReturnValue(1 << 20);
    const available = vi.spyOn(process, 'availableMemory').mockReturnValue(1 << 20);
    try {
      expect(threads.concurrency).toBe(3);
      const setting = here.setting(() => 0);
      const feeds = images(5, 7);
      // All at once: they wait for the first run's measurement, then share the one thread.
      const [a, b] = await Promise.all([
        Promise.all(feeds.map((f) => here.run(f, setting))),
        Promise.all(feeds.map((f) => threads.run(f, setting))),
      ]);
      for (const [i, out] of b.entries())
        expect(Array.from(out['conv3.relu_out']?.data as Float32Array)).toEqual(
          Array.from(a[i]?.['conv3.relu_out']?.data as Float32Array),
        );
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ requested: 3, used: 1, freeBytes: 1 << 20 });
      expect(reports[0]?.perWorkerBytes).toBeGreaterThanOrEqual(1 << 20);
      expect(threads.concurrency).toBe(1);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /createSwitchableSim\(\{ workers: 3 \}\) \(evaluation threads\): each worker takes about \d+ MiB and 1 MiB are free; using 1 workers, not 3 .*ask for workers: 1/,
      );
    } finally {
      freemem.mockRestore();
      available.mockRestore();
      await Promise.all([here.release(), threads.release(), w8.release(), w16.release()]);
    }
  });
});

/** AMP on the detector head: 8 calibration and 4 evaluation images, W4A4 or W8A8, output SQNR against float. */
async function detectorW4W8() {
  const calibration = detectorImages(8);
  const evaluation = detectorImages(4, 99);
  const builder = quant(buildDetectorHead());
  const candidates: AmpCandidate[] = [
    { activations: 4, params: 4 },
    { activations: 8, params: 8 },
  ];
  return { calibration, evaluation, builder, candidates, evaluate: await sqnrAgainstFloat(builder, calibration, evaluation) };
}

describe('autoMixedPrecision', () => {
  it('reaches the target with the cheapest plan, as brute force over every plan finds', async () => {
    const { calibration, builder, candidates, evaluate } = await detectorW4W8();

    // Brute force: every plan's score and cost, from the same statistics.
    const stats = await builder.collectStats(calibration);
    const sims = [
      await builder.activations(4).params(4).fromStats(stats),
      await builder.activations(8).params(8).fromStats(stats),
    ];
    const switchable = await createSwitchableSim(
      sims.map((sim, i) => ({ name: candidateName(candidates[i] as AmpCandidate), sim })),
      { groupOf: quantizerUnit },
    );
    const groups = switchable.groups;
    const first = sims[0] as (typeof sims)[number];
    const factors = unitCosts(first.floatModel.graph, first.plan, new Map(groups.map((g) => [g.name, g.quantizers])));
    const cost = (high: ReadonlySet<string>) =>
      groups.reduce(
        (s, g) => s + costAt('bops', factors.get(g.name) as UnitCost, high.has(g.name) ? 8 : 4, high.has(g.name) ? 8 : 4),
        0,
      );
    const plans: { high: Set<string>; score: number; cost: number }[] = [];
    for (let mask = 0; mask < 2 ** groups.length; mask++) {
      const high = new Set(groups.filter((_, i) => (mask >> i) & 1).map((g) => g.name));
      const score = await evaluate({
        run: (f) =>
          switchable.run(
            f,
            switchable.setting((g) => (high.has(g.name) ? 1 : 0)),
          ),
      });
      plans.push({ high, score, cost: cost(high) });
    }
    await switchable.release();
    for (const s of sims) await s.release();
    const low = plans[0]?.score as number;
    const high = plans[plans.length - 1]?.score as number;
    expect(high).toBeGreaterThan(low + 6);
    const target = (low + high) / 2;
    const cheapest = Math.min(...plans.filter((p) => p.score >= target).map((p) => p.cost));

    // The brute force scores plans without bias correction: so does this search.
    const amp = await autoMixedPrecision(builder, {
      calibration,
      evaluate,
      better: 'higher',
      target,
      candidates,
      cost: 'bops',
      biasCorrection: false,
    });
    try {
      expect(amp.reached).toBe(true);
      expect(amp.score).toBeGreaterThanOrEqual(target);
      const chosen = new Set(amp.plan.filter((e) => candidateName(e.candidate) === 'W8A8').map((e) => e.group));
      expect(cost(chosen)).toBe(cheapest);
      expect(amp.front.length).toBeGreaterThan(1);
      // The saved config reproduces the plan.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'quantsim-amp-'));
      const file = path.join(dir, 'plan.json');
      await amp.saveConfig(file);
      // amp.sim is the plan as scored, without bias correction (which the config does not hold).
      const again = await quant(buildDetectorHead()).biasCorrection(false).config(file).plan();
      const strip = (p: typeof again) => p.quantizers.map(({ provenance: _p, ...q }) => q);
      expect(strip(again)).toEqual(strip(amp.sim.plan));
    } finally {
      await amp.sim.release();
    }
  });

  it('gives each candidate its own bias correction, switched with its groups, and returns the plan as scored', async () => {
    const { calibration, evaluation, builder, candidates, evaluate } = await detectorW4W8();
    // Each candidate as calibrate gives it (bias correction on 8 samples).
    const w4 = await builder.activations(4).params(4).biasCorrection({ samples: 8 }).calibrate(calibration);
    const w8 = await builder.activations(8).params(8).biasCorrection({ samples: 8 }).calibrate(calibration);
    const plain = await builder.activations(4).params(4).biasCorrection(false).calibrate(calibration);
    expect(w4.postTraining.biasCorrection?.length).toBeGreaterThan(0);
    const w4Score = await evaluate(w4);
    expect(w4Score).not.toBe(await evaluate(plain));
    // The switchable model of both runs each, everywhere, bit for bit: its own biases switch with its layers.
    const switchable = await createSwitchableSim(
      [
        { name: 'W4A4', sim: w4 },
        { name: 'W8A8', sim: w8 },
      ],
      { groupOf: quantizerUnit },
    );
    const feeds = evaluation[0] as FeedsLike;
    for (const [v, sim] of [w4, w8].entries()) {
      const got = await switchable.run(
        feeds,
        switchable.setting(() => v),
      );
      const want = await sim.run(feeds as never);
      for (const [name, t] of Object.entries(want)) expect(got[name]?.data).toEqual(t.data);
    }
    await switchable.release();
    await Promise.all([w4.release(), w8.release(), plain.release()]);

    const target = w4Score + 3;
    const amp = await autoMixedPrecision(builder, {
      calibration,
      evaluate,
      better: 'higher',
      target,
      candidates,
      biasCorrection: { samples: 8 },
    });
    try {
      // The front starts at W4A4 with its bias correction.
      expect(amp.front[0]?.score).toBe(w4Score);
      expect(amp.reached).toBe(true);
      // The returned sim is the chosen plan as scored (each group on its candidate's biases): the
      // score of its front point.
      const changes = Object.fromEntries(
        amp.plan.filter((e) => candidateName(e.candidate) !== 'W4A4').map((e) => [e.group, candidateName(e.candidate)]),
      );
      expect(amp.front.find((p) => JSON.stringify(p.changes) === JSON.stringify(changes))?.score).toBe(amp.score);
      expect(amp.sim.postTraining.biasCorrection?.length).toBeGreaterThan(0);
      // The saved config gives the same plan.
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'quantsim-amp-')), 'plan.json');
      await amp.saveConfig(file);
      const again = await quant(buildDetectorHead()).config(file).plan();
      const strip = (p: typeof again) =>
        p.quantizers.map(({ provenance: _p, steps, ...q }) => ({ ...q, corrected: steps !== undefined }));
      expect(strip(again)).toEqual(strip(amp.sim.plan));
    } finally {
      await amp.sim.release();
    }
  });

  it('refuses a variant that quantizes a bias that its bias correction changed', async () => {
    const calibration = detectorImages(4);
    const builder = quant(buildDetectorHead());
    const plain = await builder.biasCorrection(false).calibrate(calibration);
    const biased = await builder.biasCorrection({ samples: 4 }).defaults({ quantizeBias: true }).calibrate(calibration);
    try {
      await expect(
        createSwitchableSim([
          { name: 'plain', sim: plain },
          { name: 'biased', sim: biased },
        ]),
      ).rejects.toThrow(/Variant biased quantizes the bias .* which its bias correction changed/);
    } finally {
      await Promise.all([plain.release(), biased.release()]);
    }
  });
});
