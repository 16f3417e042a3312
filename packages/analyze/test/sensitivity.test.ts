import { registerDefaultBackends } from '@quantsim/backends';
import { createBackendContainer, createQuant, type QuantSim, QuantsimError } from '@quantsim/core';
import { defaultPlugin } from '@quantsim/plugins';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import {
  analyzeSensitivity,
  mostSensitiveUnits,
  outputSqnrMetric,
  quantUnits,
  type SensitivityProgress,
  type SensitivityResult,
  sensitivityReportHtml,
  sensitivityReportJson,
} from '../src/index.js';

const quant = createQuant({ plugins: [defaultPlugin], container: registerDefaultBackends(createBackendContainer()) });
const evaluation = detectorImages(4, 23);

let sim: QuantSim;
let result: SensitivityResult;
const progress: SensitivityProgress[] = [];
// One analysis, outside the CLI: W8A8 with one deliberately bad layer (2-bit weights on fc7).
beforeAll(async () => {
  sim = await quant(buildDetectorHead()).biasCorrection(false).layers(/^fc7$/).params(2).calibrate(detectorImages(8));
  result = await analyzeSensitivity(sim, {
    metric: outputSqnrMetric(evaluation, (feeds) => sim.runFloat(feeds)),
    compareSamples: evaluation.slice(0, 2),
    onProgress: (p) => progress.push(p),
  });
});

describe('analyzeSensitivity as a library', () => {
  it('measures every unit of the plan once alone quantized and once alone in float', () => {
    const units = quantUnits(sim.plan);
    expect(result.unitCount).toBe(units.length);
    expect(result.units.map((u) => u.unit)).toEqual(units.map((u) => u.name));
    for (const u of result.units) {
      expect(u.onlyQuantized).toBeTypeOf('number');
      expect(u.onlyFloat).toBeTypeOf('number');
    }
    // All quantized, weights only, activations only, then two per unit; the float run is no simulation.
    expect(result.configurations).toBe(3 + 2 * units.length);
    expect(result.perLayerSqnr.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: progress.at(-1)?.total });
  });

  it('scores the float model against itself as identical and finds the bad layer first', () => {
    expect(result.float).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(result.quantized)).toBe(true);
    const [worst] = mostSensitiveUnits(result, 1);
    expect(worst?.layers).toContain('fc7');
    expect(result.weightsOnly).toBeLessThan(result.activationsOnly ?? Number.NaN);
  });

  it('writes a report that names every unit, with infinite SQNR as null in the JSON', () => {
    const context = { model: 'detector-head', plan: 'W8A8, fc7 w2', calibrationSamples: 8, backend: 'cpu', generated: '' };
    const html = sensitivityReportHtml(result, context);
    for (const u of result.units) expect(html).toContain(u.unit);
    expect(sensitivityReportJson(result, context)).toMatchObject({ format: 'quantsim-sensitivity/1', float: null });
  });

  it('refuses a simulation whose biases were corrected, naming the fix', async () => {
    const corrected = await quant(buildDetectorHead()).calibrate(detectorImages(4));
    try {
      expect(corrected.postTraining.biasCorrection?.length).toBeGreaterThan(0);
      const run = analyzeSensitivity(corrected, {
        metric: outputSqnrMetric(evaluation, (feeds) => corrected.runFloat(feeds)),
        compareSamples: [],
      });
      await expect(run).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(run).rejects.toThrow(/biases were corrected/);
      await expect(run).rejects.toMatchObject({ hint: expect.stringMatching(/\.biasCorrection\(false\)/) });
    } finally {
      await corrected.release();
    }
  });

  it('stops with an ABORTED error when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const run = analyzeSensitivity(sim, {
      metric: outputSqnrMetric(evaluation, (feeds) => sim.runFloat(feeds)),
      compareSamples: [],
      signal: controller.signal,
    });
    await expect(run).rejects.toBeInstanceOf(QuantsimError);
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
