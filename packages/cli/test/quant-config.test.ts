import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead } from '../../../examples/detector-head/detector-head-model.js';
import { createCliQuant } from '../src/cli-quant.js';
import { buildPlan, describePlan } from '../src/commands/quant-options.js';
import { QuantConfigError } from '../src/config/quant-config-error.js';
import { readQuantConfigFile, validateQuantConfig } from '../src/config/read-quant-config.js';
import { parseSetShorthand } from '../src/config/set-shorthand.js';
import { type DetectorFixture, detectorFixture } from './support/detector-fixture.js';

let f: DetectorFixture;
beforeAll(async () => {
  f = await detectorFixture();
});

const quant = createCliQuant({ warn: () => {} });
const write = (name: string, text: string) => {
  const file = path.join(f.dir, name);
  writeFileSync(file, text);
  return file;
};

describe('--config files', () => {
  it('reads YAML and JSON mirroring the builder DSL, in order, with defaults and --set last', async () => {
    const yaml = write(
      'quant.yaml',
      [
        'defaults:',
        '  scheme: minmax',
        '  perChannel: true',
        'overrides:',
        '  - layers: fc|bbox',
        '    activations: 16',
        '    params: { bits: 16, symmetric: false }',
        '  - ops: Softmax',
        '    disable: true',
        '  - tensors: ^backbone\\.conv1\\.weight$',
        '    params: 4',
        '    scheme: { name: percentile, options: { p: 99.9 } }',
      ].join('\n'),
    );
    const model = buildDetectorHead();
    const plan = await buildPlan(quant, model, 'head.onnx', { config: yaml, set: ['fc7:a8'] }).plan();
    expect(plan.get('param:fc6.weight')).toMatchObject({ bitwidth: 16, symmetric: false, perChannelAxis: 0, scheme: 'minmax' });
    expect(plan.get('activation:fc6.relu_out')?.bitwidth).toBe(16);
    expect(plan.get('activation:fc7.relu_out')?.bitwidth).toBe(8);
    expect(plan.get('activation:cls_prob')?.enabled).toBe(false);
    expect(plan.get('param:backbone.conv1.weight')).toMatchObject({
      bitwidth: 4,
      scheme: 'percentile',
      schemeOptions: { p: 99.9 },
    });
    const json = write('quant.json', JSON.stringify({ overrides: [{ layers: ['^fc6$'], params: 16 }] }));
    expect(readQuantConfigFile(json).overrides?.[0]).toEqual({ layers: ['^fc6$'], params: 16 });
  });

  it('names the file and the JSON path of a wrong value', () => {
    const bad = write('bad.yaml', 'overrides:\n  - layers: fc\n    params: 8\n  - layers: bbox\n    activations: sixteen\n');
    expect(() => readQuantConfigFile(bad)).toThrow(QuantConfigError);
    expect(() => readQuantConfigFile(bad)).toThrow(
      /bad\.yaml: overrides\[1\]\.activations: expected a bitwidth.*\{ bits, symmetric\?/,
    );
    const unknown = write('unknown.json', JSON.stringify({ overrides: [{ layers: 'fc', params: 8, bitz: 4 }] }));
    expect(() => readQuantConfigFile(unknown)).toThrow(
      /unknown\.json: overrides\[0\]\.bitz: unknown key\. Known keys here: layers, ops, tensors/,
    );
    const defaults = write('defaults.json', JSON.stringify({ defaults: { activations: 8.5 } }));
    expect(() => readQuantConfigFile(defaults)).toThrow(/defaults\.json: defaults\.activations: expected a bitwidth/);
    const regex = write('regex.json', JSON.stringify({ overrides: [{ layers: ['fc', '(unclosed'], params: 8 }] }));
    expect(() => readQuantConfigFile(regex)).toThrow(
      /regex\.json: overrides\[0\]\.layers\[1\]: "\(unclosed" is not a valid regular expression/,
    );
    const two = write('two.json', JSON.stringify({ overrides: [{ layers: 'fc', ops: 'Gemm', params: 8 }] }));
    expect(() => readQuantConfigFile(two)).toThrow(/overrides\[0\]\.ops: give one selector per override/);
    const empty = write('empty.json', JSON.stringify({ overrides: [{ layers: 'fc' }] }));
    expect(() => readQuantConfigFile(empty)).toThrow(/overrides\[0\]: sets nothing; add one of scheme/);
    expect(() => readQuantConfigFile(write('syntax.json', '{ "overrides": ['))).toThrow(/syntax\.json: is not valid JSON/);
    expect(() => readQuantConfigFile(write('syntax.yaml', 'overrides: [\n'))).toThrow(/syntax\.yaml: is not valid YAML/);
    expect(() => readQuantConfigFile(path.join(f.dir, 'nope.yaml'))).toThrow(
      /nope\.yaml: no such file\. Check the path given to --config/,
    );
    expect(() => validateQuantConfig([1, 2], 'x.json')).toThrow(/x\.json: expected an object/);
  });

  it('reports a selector that matches nothing against the file and JSON path, with names from the model', () => {
    const file = write(
      'typo.json',
      JSON.stringify({
        overrides: [
          { layers: 'fc', params: 16 },
          { layers: ['bbox', 'fc8'], params: 16 },
        ],
      }),
    );
    expect(() => buildPlan(quant, buildDetectorHead(), 'head.onnx', { config: file })).toThrow(
      /typo\.json: overrides\[1\]\.layers\[1\]: \/fc8\/ matches no layer of head\.onnx\. The model has 14 layers, for example 'backbone\.conv1'.*quantsim inspect head\.onnx/,
    );
    const ops = write('ops.json', JSON.stringify({ overrides: [{ ops: 'Sofmax', activations: 16 }] }));
    expect(() => buildPlan(quant, buildDetectorHead(), 'head.onnx', { config: ops })).toThrow(
      /overrides\[0\]\.ops: 'Sofmax' matches no op type/,
    );
    expect(() => buildPlan(quant, buildDetectorHead(), 'head.onnx', { set: ['conv9:a16'] })).toThrow(
      /--set "conv9:a16": layers: \/conv9\/ matches no layer/,
    );
  });
});

describe('--per-tensor and --no-bias-correction', () => {
  it('turn off per-channel weights and the default bias correction; --bias-correction asks for it explicitly', async () => {
    const model = buildDetectorHead();
    const plain = buildPlan(quant, model, 'head.onnx', {});
    const off = buildPlan(quant, model, 'head.onnx', { perTensor: true, biasCorrection: false });
    const explicit = buildPlan(quant, model, 'head.onnx', { biasCorrection: true });
    expect(plain.state.defaults.perChannel).toBe(true);
    expect(plain.state.postTraining?.biasCorrection).toBeUndefined();
    expect(describePlan(plain)).toMatch(/, bias correction/);
    expect(explicit.state.postTraining?.biasCorrection).toEqual({});
    expect(off.state.defaults.perChannel).toBe(false);
    expect(off.state.postTraining?.biasCorrection).toBe(false);
    expect(describePlan(off)).toMatch(/, no bias correction/);
    const weights = (await off.plan()).quantizers.filter((q) => q.kind === 'param' && q.paramRole === 'weight');
    expect(weights.length).toBeGreaterThan(0);
    expect(weights.every((q) => q.perChannelAxis === undefined)).toBe(true);
  });
});

describe('--set shorthand', () => {
  it('parses a regex and activation/weight bits; the regex ends at the last colon', () => {
    expect(parseSetShorthand('fc|bbox:a16w16')).toEqual({ layers: 'fc|bbox', activations: 16, params: 16 });
    expect(parseSetShorthand('conv1:w4')).toEqual({ layers: 'conv1', params: 4 });
    expect(parseSetShorthand('(?:a|b):c:A8')).toEqual({ layers: '(?:a|b):c', activations: 8 });
    expect(() => parseSetShorthand('fc16')).toThrow(/--set "fc16": expected <regex>:a<bits>w<bits>.*--set 'fc\|bbox:a16w16'/);
    expect(() => parseSetShorthand('fc:x16')).toThrow(/'x16' is not a bit spec such as a16w8/);
    expect(() => parseSetShorthand('fc:')).toThrow(/is not a bit spec/);
    expect(() => parseSetShorthand('(fc:a8')).toThrow(/'\(fc' is not a valid regular expression/);
  });
});
