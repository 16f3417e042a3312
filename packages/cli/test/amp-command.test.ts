import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadModel, quant } from 'quantsim';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CapturedRun, type DetectorFixture, detectorFixture, runQuantsim } from './support/detector-fixture.js';
import { chromiumMissingReason, launchChromium } from './support/headless-chromium.js';

interface FrontJson {
  format: string;
  float: number | null;
  target: number;
  score: number;
  reached: boolean;
  candidates: string[];
  plan: { group: string; candidate: string; quantizers: string[] }[];
  front: { cost: number; score: number; changes: Record<string, string> }[];
}

let f: DetectorFixture;
let out: string;
/** The AMP run of these tests: W4A4 up to 30 dB output SQNR on the detector head, into `dir`. */
const ampArgs = (dir: string, extra: string[] = []) => [
  'amp',
  f.model,
  '--calib',
  f.calibFile,
  '--samples',
  '8',
  '--candidates',
  'W4A4,W8A8,W16A16',
  '--target',
  '30',
  '--eval-samples',
  '4',
  ...extra,
  '--out',
  dir,
];
let run: CapturedRun;
// One AMP run serves the tests of its output files.
beforeAll(async () => {
  f = await detectorFixture();
  out = path.join(f.dir, 'amp');
  run = await runQuantsim(ampArgs(out));
});

describe('quantsim amp', () => {
  it('raises layers from W4A4 until the output SQNR reaches the target, and writes the plan, the front and the page', async () => {
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/Metric {6}output SQNR \(dB, higher is better\) on 4 samples, 1 in phase 1/);
    expect(run.out).toMatch(/Chosen {6}.* \(target reached\)/);
    const json = JSON.parse(readFileSync(path.join(out, 'front.json'), 'utf8')) as FrontJson;
    expect(json.format).toBe('quantsim-amp/1');
    expect(json.float).toBeNull(); // float against itself: infinite SQNR
    expect(json.target).toBe(30);
    expect(json.reached).toBe(true);
    expect(json.score).toBeGreaterThanOrEqual(30);
    // The walk started from W4A4 everywhere, below the target, and had to raise something.
    expect(json.front[0]?.changes).toEqual({});
    expect(json.front[0]?.score).toBeLessThan(30);
    const raised = json.plan.filter((e) => e.candidate !== 'W4A4');
    expect(raised.length).toBeGreaterThan(0);
    for (let i = 1; i < json.front.length; i++)
      expect(json.front[i]?.cost).toBeGreaterThanOrEqual(json.front[i - 1]?.cost as number);
    const html = readFileSync(path.join(out, 'amp.html'), 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toMatch(/<svg [^>]*aria-label="Pareto front of the greedy walk"/);
    expect(html.match(/<circle class="point/g)?.length).toBe(json.front.filter((p) => Number.isFinite(p.score)).length);
    expect(html).toMatch(/class="point chosen"/);
    expect(html).toMatch(/target 30\.00/);
  });

  it('writes a plan.json that reproduces the chosen bitwidths through .config()', async () => {
    const json = JSON.parse(readFileSync(path.join(out, 'front.json'), 'utf8')) as FrontJson;
    const builder = quant(await loadModel(f.model)).config(path.join(out, 'plan.json'));
    const plan = await builder.plan();
    for (const entry of json.plan) {
      const [w, a] = (/^W(\d+)A(\d+)$/.exec(entry.candidate) ?? []).slice(1).map(Number);
      for (const id of entry.quantizers) {
        const q = plan.quantizers.find((x) => x.id === id);
        expect(q?.bitwidth, id).toBe(q?.kind === 'param' ? w : a);
      }
    }
  });

  it('refuses --allowed-drop with the SQNR metric, a missing target, and malformed candidates, naming the flag', async () => {
    const sqnrDrop = await runQuantsim(['amp', f.model, '--calib', f.calibFile, '--allowed-drop', '1', '--out', out]);
    expect(sqnrDrop.code).toBe(1);
    expect(sqnrDrop.err).toMatch(/--allowed-drop 1.*infinite.*--target/s);
    const none = await runQuantsim(['amp', f.model, '--calib', f.calibFile, '--out', out]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/--allowed-drop \/ --target.*exactly one/);
    const bad = await runQuantsim(['amp', f.model, '--calib', f.calibFile, '--target', '30', '--candidates', 'W8A8,int8']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/'int8' is not a candidate.*W<weight bits>A<activation bits>/s);
    const nan = await runQuantsim(['amp', f.model, '--calib', f.calibFile, '--target', 'high']);
    expect(nan.code).toBe(1);
    expect(nan.err).toMatch(/--target high.*not a number/);
    const threads = await runQuantsim(['amp', f.model, '--calib', f.calibFile, '--target', '30', '--workers', 'two']);
    expect(threads.code).toBe(1);
    expect(threads.err).toMatch(/--workers two.*whole number/);
  });

  it('gives the same front on 2 worker threads (--workers 2)', async () => {
    const other = path.join(f.dir, 'amp-threads');
    const r = await runQuantsim(ampArgs(other, ['--workers', '2']));
    expect(r.code, r.err).toBe(0);
    const front = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'front.json'), 'utf8')) as FrontJson).front;
    expect(front(other)).toEqual(front(out));
  });

  const missing = chromiumMissingReason();
  if (missing) console.log(`skipping the browser check: ${missing}`);
  it.skipIf(missing !== undefined)(
    'draws the front in headless Chromium: axes, ticks, one point per step, the chosen one marked',
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
        await page.goto(`file://${path.join(out, 'amp.html')}`);
        const chart = await page.locator('svg.chart').evaluate((svg) => {
          const box = svg.getBoundingClientRect();
          const inside = (r: { left: number; right: number; top: number; bottom: number }) =>
            r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
          const points = [...svg.querySelectorAll('circle.point')].map((c) => c.getBoundingClientRect());
          return {
            width: box.width,
            height: box.height,
            ticks: svg.querySelectorAll('text.tick').length,
            axisLabels: [...svg.querySelectorAll('text.axis-label')].map((t) => t.textContent),
            points: points.length,
            drawn: points.filter((p) => p.width > 0 && inside(p)).length,
            chosen: svg.querySelectorAll('circle.chosen').length,
          };
        });
        const json = JSON.parse(readFileSync(path.join(out, 'front.json'), 'utf8')) as FrontJson;
        expect(chart.width).toBeGreaterThan(300);
        expect(chart.height).toBeGreaterThan(200);
        expect(chart.ticks).toBeGreaterThan(4);
        expect(chart.axisLabels).toEqual(['cost (bops, relative to float)', 'output SQNR (dB)']);
        expect(chart.points).toBe(json.front.length);
        expect(chart.drawn).toBe(json.front.length);
        expect(chart.chosen).toBe(1);
        const file = path.join(f.dir, 'amp.png');
        await page.screenshot({ path: file, fullPage: true });
        expect(statSync(file).size).toBeGreaterThan(10_000);
      } finally {
        await browser.close();
      }
    },
  );
});
