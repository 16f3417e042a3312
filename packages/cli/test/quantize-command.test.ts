import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpy } from '@quantsim/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.js';
import { type DetectorFixture, detectorFixture, runQuantsim } from './support/detector-fixture.js';

let f: DetectorFixture;
beforeAll(async () => {
  f = await detectorFixture();
});

describe('quantsim quantize', () => {
  it('calibrates on a .npy file and exports the formats asked for', async () => {
    const prefix = path.join(f.dir, 'out', 'head');
    const r = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--out',
      prefix,
      '--set',
      'fc|bbox:a16w16',
      '--samples',
      '8',
    ]);
    expect(r.err).toMatch(/calibrating: 8\/8 in/);
    expect(r.code).toBe(0);
    // Per-channel weights are the default.
    expect(r.out).toMatch(/Plan {7}W8A8, tf-enhanced, per-channel, bias correction, 2 overrides/);
    expect(r.out).toMatch(/Calibrate {2}.*calib\.npy \(12 samples\), first 8/);
    expect(r.out).toMatch(/Output {5}SQNR \d+\.\d dB against float on 4 calibration samples/);
    for (const ext of ['.encodings', '.onnx', '.ort-overrides.json', '.plan.json'])
      expect(existsSync(`${prefix}${ext}`), ext).toBe(true);
    const encodings = JSON.parse(readFileSync(`${prefix}.encodings`, 'utf8'));
    const fc6 = encodings.param_encodings.find((e: { name: string }) => e.name === 'fc6.weight');
    expect(fc6?.bw).toBe(16);
  });

  it('takes a YAML config, a folder of samples, --scheme, --per-channel and --formats', async () => {
    const config = path.join(f.dir, 'quant.yaml');
    writeFileSync(config, 'overrides:\n  - ops: Softmax\n    activations: 16\n');
    const prefix = path.join(f.dir, 'out', 'cfg');
    const r = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibDir,
      '--config',
      config,
      '--scheme',
      'minmax',
      '--per-channel',
      '--out',
      prefix,
      '--formats',
      'encodings,plan',
      '--show-plan',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/cls_prob\s+activation\s+cls_prob\s+16\*/);
    expect(existsSync(`${prefix}.plan.json`)).toBe(true);
    expect(existsSync(`${prefix}.onnx`)).toBe(false);
    const plan = JSON.parse(readFileSync(`${prefix}.plan.json`, 'utf8'));
    const w = plan.quantizers.find((q: { id: string }) => q.id === 'param:fc6.weight');
    expect(w).toMatchObject({ scheme: 'minmax', perChannelAxis: 0 });
  });

  it('exits 1 with a one-line message naming the file for a missing model', async () => {
    const r = await runQuantsim([
      'quantize',
      path.join(f.dir, 'missing.onnx'),
      '--calib',
      f.calibFile,
      '--out',
      path.join(f.dir, 'x'),
    ]);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^quantsim: Cannot load ONNX model .*missing\.onnx/);
  });

  it('exits 1 naming the .npy file and the input when the shape is wrong', async () => {
    const bad = path.join(f.dir, 'bad-shape.npy');
    writeFileSync(bad, encodeNpy(new Float32Array(2 * 3 * 16 * 16), [2, 3, 16, 16]));
    const r = await runQuantsim(['quantize', f.model, '--calib', bad, '--out', path.join(f.dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^quantsim: .*bad-shape\.npy: has shape \[2, 3, 16, 16\].*input 'image' of detector-head\.onnx is float32 \[1, 3, 32, 32\]/,
    );
    expect(r.err.split('\n')).toHaveLength(1);
  });

  it('takes the name of a shipped AIMET config for --config, and lists the names for an unknown one', async () => {
    const prefix = path.join(f.dir, 'named', 'head');
    const r = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--config',
      'aimet-default',
      '--out',
      prefix,
      '--samples',
      '4',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Plan {7}W8A8, tf-enhanced, per-channel, bias correction, config aimet-default/);
    const plan = JSON.parse(readFileSync(`${prefix}.plan.json`, 'utf8'));
    const fc6 = plan.quantizers.find((q: { id: string }) => q.id === 'param:fc6.weight');
    expect(fc6.provenance.perChannelAxis).toBe('config aimet-default');
    expect(fc6.perChannelAxis).toBeUndefined();
    const unknown = await runQuantsim(['quantize', f.model, '--calib', f.calibFile, '--config', 'hpt', '--out', prefix]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no config of that name.*Known configs: 'aimet-default', 'aimet-per-channel', 'htp', 'ort'/);
  });

  it('exits 1 naming the JSON path of a bad config value', async () => {
    const config = path.join(f.dir, 'bad.json');
    writeFileSync(
      config,
      JSON.stringify({
        defaults: { activations: 8 },
        overrides: [
          { layers: 'fc', params: 16 },
          { layers: 'bbox', params: 'sixteen' },
        ],
      }),
    );
    const r = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--config',
      config,
      '--out',
      path.join(f.dir, 'x'),
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^quantsim: .*bad\.json: overrides\[1\]\.params: expected a bitwidth/);
  });

  it('exits 1 for bad options, with commander or quantsim messages', async () => {
    const missing = await runQuantsim(['quantize', f.model, '--out', path.join(f.dir, 'x')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/required option '--calib <path>' not specified/);
    const formats = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--out',
      path.join(f.dir, 'x'),
      '--formats',
      'encodings,tflite',
    ]);
    expect(formats.code).toBe(1);
    expect(formats.err).toMatch(/'tflite' is not an export format\. Formats: encodings, onnx, qdq/);
    const samples = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--out',
      path.join(f.dir, 'x'),
      '--samples',
      'many',
    ]);
    expect(samples.err).toMatch(/--samples many: expected a whole number of 1 or more/);
    const scheme = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--out',
      path.join(f.dir, 'x'),
      '--scheme',
      'tf-enhancd',
    ]);
    expect(scheme.code).toBe(1);
    expect(scheme.err).toMatch(/tf-enhancd/);
  });

  it('exits 2 on an internal error, and inspect still works', async () => {
    const lines: string[] = [];
    const ok = await runCli(['inspect', f.model, '--no-layers'], { out: (l) => lines.push(l), err: () => {} });
    expect(ok).toBe(0);
    expect(lines.join('\n')).toMatch(/Layers {4}14 \(/);
    const err: string[] = [];
    const code = await runCli(['inspect', f.model], {
      out: () => {
        throw new TypeError('stdout went away');
      },
      err: (l) => err.push(l),
    });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/internal error: TypeError: stdout went away[\s\S]*This is a bug in quantsim/);
  });
});
