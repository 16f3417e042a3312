import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CapturedRun, type DetectorFixture, detectorFixture, runQuantsim } from './support/detector-fixture.js';
import { chromiumMissingReason, launchChromium } from './support/headless-chromium.js';

let f: DetectorFixture;
let report: string;
let first: CapturedRun;
// One full analysis serves the tests of its output and of its rendering.
beforeAll(async () => {
  f = await detectorFixture();
  report = path.join(f.dir, 'report');
  // Per-tensor weights (per-channel is the default): both halves then cost measurably.
  const perTensor = path.join(f.dir, 'per-tensor.yaml');
  writeFileSync(perTensor, 'defaults:\n  perChannel: false\n');
  first = await runQuantsim([
    'sensitivity',
    f.model,
    '--calib',
    f.calibFile,
    '--samples',
    '8',
    '--config',
    perTensor,
    '--out',
    report,
  ]);
});

interface ReportJson {
  metric: { name: string; unit: string; better: string; samples: number };
  float: number | null;
  quantized: number;
  weightsOnly: number;
  activationsOnly: number;
  unitCount: number;
  configurations: number;
  perLayerSqnr: { tensor: string; sqnr: number | null }[];
  units: { unit: string; layers: string[]; onlyQuantized: number | null; onlyFloat: number | null }[];
}

describe('quantsim sensitivity', () => {
  it('measures every layer of the detector head and writes the HTML report and the JSON', async () => {
    const r = first;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Metric {6}output SQNR \(dB, higher is better\) on 4 samples/);
    expect(r.out).toMatch(/Analyzed {4}9 of 9 layers, 21 simulations/);
    const json = JSON.parse(readFileSync(path.join(report, 'sensitivity.json'), 'utf8')) as ReportJson;
    expect(json.metric).toEqual({ name: 'output SQNR', unit: 'dB', better: 'higher', samples: 4 });
    // The float model matches itself exactly: an infinite SQNR, written as null.
    expect(json.float).toBeNull();
    expect(json.quantized).toBeGreaterThan(20);
    // Each half alone is closer to float than both together.
    expect(json.weightsOnly).toBeGreaterThan(json.quantized);
    expect(json.activationsOnly).toBeGreaterThan(json.quantized);
    expect(json.units.map((u) => u.unit)).toContain('fc6');
    expect(json.units.find((u) => u.unit === 'backbone.conv1')?.layers).toEqual(['backbone.conv1', 'backbone.relu1']);
    for (const u of json.units) {
      expect(u.onlyQuantized, u.unit).toBeGreaterThan(json.quantized);
      expect(u.onlyFloat, u.unit).toBeGreaterThanOrEqual(json.quantized - 1);
    }
    expect(json.perLayerSqnr.length).toBeGreaterThan(5);
    const html = readFileSync(path.join(report, 'sensitivity.html'), 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<svg /g)).toHaveLength(4);
  });

  it('limits the layers with --layers and the analyses with --analyses, and uses --eval with --metric top1', async () => {
    const out = path.join(f.dir, 'report-top1');
    const r = await runQuantsim([
      'sensitivity',
      f.model,
      '--calib',
      f.calibDir,
      '--eval',
      f.calibFile,
      '--eval-samples',
      '6',
      '--metric',
      'top1',
      '--layers',
      '^fc',
      '--analyses',
      'only-quantized,weights-vs-activations',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(readFileSync(path.join(out, 'sensitivity.json'), 'utf8')) as ReportJson;
    expect(json.metric).toMatchObject({ name: 'top-1 agreement', unit: '%', samples: 6 });
    expect(json.float).toBe(100);
    expect(json.units.map((u) => u.unit)).toEqual(['fc6', 'fc7']);
    expect(json.units[0]?.onlyFloat).toBeNull();
    expect(json.perLayerSqnr).toEqual([]);
    expect(json.configurations).toBe(1 + 2 + 2);
  });

  it('refuses an unknown analysis, a bad --layers and --metric cer on another model', async () => {
    const a = await runQuantsim(['sensitivity', f.model, '--calib', f.calibFile, '--analyses', 'per-layer', '--out', report]);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/'per-layer' is not an analysis\. Analyses: per-layer-sqnr/);
    const l = await runQuantsim(['sensitivity', f.model, '--calib', f.calibFile, '--layers', '(fc', '--out', report]);
    expect(l.err).toMatch(/--layers \(fc: is not a valid regular expression/);
    const c = await runQuantsim(['sensitivity', f.model, '--calib', f.calibFile, '--metric', 'cer', '--out', report]);
    expect(c.err).toMatch(/--metric cer: needs the bundled recognizer, not detector-head\.onnx/);
  });

  const missing = chromiumMissingReason();
  if (missing) console.log(`skipping the browser check: ${missing}`);
  it.skipIf(missing !== undefined)('renders its charts in headless Chromium', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      await page.goto(`file://${path.join(report, 'sensitivity.html')}`);
      const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const bars = [...svg.querySelectorAll('rect.bar')].map((r) => r.getBoundingClientRect());
          return {
            width: box.width,
            height: box.height,
            bars: bars.length,
            drawn: bars.filter((b) => b.width > 0 && b.height > 0).length,
          };
        }),
      );
      expect(charts).toHaveLength(4);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(300);
        expect(c.height).toBeGreaterThan(50);
        expect(c.bars).toBeGreaterThan(0);
        expect(c.drawn).toBeGreaterThan(0);
      }
      const shots = path.join(f.dir, 'shots');
      mkdirSync(shots);
      const file = path.join(shots, 'report.png');
      await page.screenshot({ path: file, fullPage: true });
      expect(statSync(file).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
