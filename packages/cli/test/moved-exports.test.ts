import * as analyze from '@quantsim/analyze';
import * as data from '@quantsim/data';
import { describe, expect, it } from 'vitest';
import * as cli from '../src/index.js';

const cliExports: Record<string, unknown> = { ...cli };

/** Values @quantsim/analyze gained with analyze() and automatic mixed precision (issue 11): never in the CLI. */
const NEW_IN_ANALYZE = new Set([
  'ampReportHtml',
  'ampReportJson',
  'analyze',
  'autoMixedPrecision',
  'badness',
  'candidateName',
  'centralRange',
  'CHANNEL_RANGE_RATIO',
  'channelRangeRatio',
  'costAt',
  'findAnalysisFindings',
  'formatNumber',
  'horizontalBarChart',
  'lineChart',
  'lossOf',
  'niceTicks',
  'OUTLIER_RATIO',
  'outputSqnrScorer',
  'perChannelSuspects',
  'planBuilder',
  'QuantAnalysisReport',
  'sameOutputs',
  'sampleMetricScorer',
  'sampleOutputs',
  'stackedOutputs',
  'top1AgreementSampleMetric',
  'unitCosts',
  'writePlanConfig',
]);

describe('names moved out of @quantsim/cli', () => {
  it('are still exported by the CLI, as the very values of @quantsim/analyze and @quantsim/data', () => {
    // These are new in @quantsim/data; the CLI never exported them.
    const newInData = new Set(['DataInputError', 'ocrModelsAssetsDir', 'ocrCerSampleMetric']);
    const moved = Object.entries({ ...analyze, ...data }).filter(([n]) => !newInData.has(n) && !NEW_IN_ANALYZE.has(n));
    for (const name of NEW_IN_ANALYZE) expect(analyze, name).toHaveProperty(name);
    expect(moved.length).toBeGreaterThan(30);
    for (const [name, value] of moved) expect(cliExports[name], name).toBe(value);
  });

  it('leave the CLI its commands', () => {
    for (const name of [
      'runCli',
      'createProgram',
      'ampCommand',
      'analyzeCommand',
      'sensitivityCommand',
      'demoCommand',
      'inspectCommand',
      'quantizeCommand',
    ])
      expect(cliExports[name], name).toBeTypeOf('function');
  });
});
