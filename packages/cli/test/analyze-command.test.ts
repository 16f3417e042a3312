import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyze } from '@quantsim/analyze';
import { loadModel } from '@quantsim/core';
import { openNpySamples } from '@quantsim/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCliQuant } from '../src/cli-quant.js';
import { type CapturedRun, type DetectorFixture, detectorFixture, runQuantsim } from './support/detector-fixture.js';

let f: DetectorFixture;
let report: string;
let first: CapturedRun;
beforeAll(async () => {
  f = await detectorFixture();
  report = path.join(f.dir, 'analysis');
  // Per-tensor weights (per-channel is the default): the per-channel finding can then show.
  const perTensor = path.join(f.dir, 'per-tensor.yaml');
  writeFileSync(perTensor, 'defaults:\n  perChannel: false\n');
  first = await runQuantsim([
    'analyze',
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

interface LayerJson {
  layer: string;
  onlyThisQuantized: number | string;
  allButThisQuantized: number | string;
  loss: number;
}
interface AnalysisJson {
  context: { model: string; plan: string; calibrationSamples: number };
  metric: { name: string; unit: string; better: string; samples: number };
  model: { float: number | string; quantized: number; weightsOnly: number; activationsOnly: number; all16: number };
  layers: LayerJson[];
  findings: { layer: string; kind: string; fix: string }[];
  configurations: number;
  search: string;
}

describe('quantsim analyze', () => {
  it("runs analyze() and writes its report: the same scores as the library's own call", async () => {
    const r = first;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Metric {6}output SQNR \(dB, higher is better\) on 8 samples/);
    const json = JSON.parse(readFileSync(path.join(report, 'analysis.json'), 'utf8')) as AnalysisJson;
    expect(json.metric).toEqual({ name: 'output SQNR', unit: 'dB', better: 'higher', samples: 8 });
    expect(json.context.calibrationSamples).toBe(8);
    // The float model matches itself exactly: an infinite SQNR.
    expect(json.model.float).toBe('Infinity');
    expect(json.model.weightsOnly).toBeGreaterThan(json.model.quantized);
    expect(json.layers.length).toBeGreaterThan(5);
    // Worst first, and the summary prints the worst layers in that order.
    const worst = [...r.out.matchAll(/^Worst {7}(\S+) /gm)].map((m) => m[1]);
    expect(worst).toEqual(json.layers.slice(0, worst.length).map((l) => l.layer));
    expect(r.out).toMatch(
      new RegExp(`Analyzed {4}${json.layers.length} layers, ${json.configurations} configurations \\(${json.search}\\)`),
    );
    const html = readFileSync(path.join(report, 'analysis.html'), 'utf8');
    expect(html).toMatch(/<svg /);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);

    // The library's analyze() on the same plan and data gives the very same scores.
    const model = await loadModel(f.model);
    const samples = openNpySamples(f.calibFile, model.graph, 'detector-head.onnx');
    const calibration = [...samples.samples(8)];
    const direct = await analyze(createCliQuant({ warn: () => {} })(model).defaults({ perChannel: false }), {
      calibration,
      evaluation: calibration,
    });
    const scores = (l: { layer: string; onlyThisQuantized: unknown; allButThisQuantized: unknown }) => [
      l.layer,
      String(l.onlyThisQuantized),
      String(l.allButThisQuantized),
    ];
    expect(json.layers.map(scores)).toEqual(direct.layers.map(scores));
    expect(json.findings.map((x) => [x.layer, x.kind])).toEqual(direct.findings.map((x) => [x.layer, x.kind]));
  });

  it('scores with --metric top1 on --eval samples, in percent against float', async () => {
    const out = path.join(f.dir, 'analysis-top1');
    const r = await runQuantsim([
      'analyze',
      f.model,
      '--calib',
      f.calibDir,
      '--eval',
      f.calibFile,
      '--eval-samples',
      '6',
      '--metric',
      'top1',
      '--search',
      'exhaustive',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(readFileSync(path.join(out, 'analysis.json'), 'utf8')) as AnalysisJson;
    expect(json.metric).toEqual({ name: 'top-1 agreement', unit: '%', better: 'higher', samples: 6 });
    expect(json.model.float).toBe(100);
    expect(json.search).toBe('exhaustive');
    for (const l of json.layers) {
      expect(l.onlyThisQuantized).toBeGreaterThanOrEqual(0);
      expect(l.onlyThisQuantized).toBeLessThanOrEqual(100);
    }
  });

  it('refuses --metric cer on another model and a bad --search, before calibrating', async () => {
    const c = await runQuantsim(['analyze', f.model, '--calib', f.calibFile, '--metric', 'cer', '--out', report]);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/--metric cer: needs the bundled recognizer, not detector-head\.onnx/);
    const s = await runQuantsim(['analyze', f.model, '--calib', f.calibFile, '--search', 'some', '--out', report]);
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/--search.*screened, exhaustive/);
    expect(s.err).not.toMatch(/calibrating/);
    // The options of the earlier analyze say where they went.
    const moved = await runQuantsim(['analyze', f.model, '--calib', f.calibFile, '--layers', '^fc', '--out', report]);
    expect(moved.code).toBe(1);
    expect(moved.err).toMatch(/--layers \^fc: belongs to `quantsim sensitivity`.*Run quantsim sensitivity/);
  });
});
