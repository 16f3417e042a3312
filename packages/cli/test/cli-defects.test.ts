import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeNpy } from '@quantsim/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DetectorFixture, detectorFixture, runQuantsim } from './support/detector-fixture.js';

let f: DetectorFixture;
beforeAll(async () => {
  f = await detectorFixture();
});

/** A calibration file whose second sample holds a NaN. */
function nanCalibration(): string {
  const file = path.join(f.dir, 'nan.npy');
  const data = new Float32Array(2 * 3 * 32 * 32).fill(0.25);
  data[3 * 32 * 32 + 17] = Number.NaN;
  writeFileSync(file, encodeNpy(data, [2, 3, 32, 32]));
  return file;
}

describe('the CLI speaks in flags, not API options', () => {
  it('a NaN in calibration data names --non-finite ignore, and that flag skips and counts it', async () => {
    const calib = nanCalibration();
    const out = path.join(f.dir, 'nan-out', 'det');
    const r = await runQuantsim(['quantize', f.model, '--calib', calib, '--out', out]);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/NaN or infinite values in calibration sample 1\./);
    expect(r.err).toMatch(/pass --non-finite ignore to skip such values/);
    expect(r.err).not.toMatch(/nonFinite/);
    const ok = await runQuantsim(['quantize', f.model, '--calib', calib, '--out', out, '--non-finite', 'ignore']);
    expect(ok.code, ok.err).toBe(0);
    const bad = await runQuantsim(['quantize', f.model, '--calib', calib, '--out', out, '--non-finite', 'skip']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--non-finite.*'skip'.*error, ignore/s);
  });

  it('a bitwidth without an ONNX type names --unsupported-bitwidth clip', async () => {
    const out = path.join(f.dir, 'six', 'det');
    const r = await runQuantsim(['quantize', f.model, '--calib', f.calibFile, '--out', out, '--set', 'fc6:a6w8']);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/Pass --unsupported-bitwidth clip/);
    expect(r.err).not.toMatch(/unsupportedBitwidth: 'clip'/);
  });
});

describe('--config takes an AIMET quantsim config as well as quantsim’s own format', () => {
  it('detects the AIMET format by shape and applies it', async () => {
    const config = path.join(f.dir, 'aimet-config.json');
    writeFileSync(
      config,
      JSON.stringify({
        defaults: {
          ops: { is_output_quantized: 'True' },
          params: { is_quantized: 'True', is_symmetric: 'True' },
          per_channel_quantization: 'True',
        },
        params: {},
        op_type: {},
        supergroups: [],
        model_input: { is_input_quantized: 'True' },
        model_output: {},
      }),
    );
    const out = path.join(f.dir, 'aimet', 'det');
    const r = await runQuantsim(['quantize', f.model, '--calib', f.calibFile, '--out', out, '--formats', 'plan']);
    expect(r.code, r.err).toBe(0);
    const withConfig = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--out',
      `${out}-cfg`,
      '--formats',
      'plan',
      '--config',
      config,
    ]);
    expect(withConfig.code, withConfig.err).toBe(0);
    type Row = { id: string; enabled: boolean; perChannelAxis?: number; provenance: Record<string, string> };
    const plan = JSON.parse(readFileSync(`${out}-cfg.plan.json`, 'utf8')) as { quantizers: Row[] };
    const row = (id: string) => plan.quantizers.find((q) => q.id === id);
    // The AIMET config set per-channel weights and a quantized model input, and the plan says so.
    expect(row('param:fc6.weight')?.perChannelAxis).toBe(0);
    expect(row('param:fc6.weight')?.provenance.perChannelAxis).toBe(`config ${config}`);
    expect(row('activation:image')?.enabled).toBe(true);
    expect(row('activation:image')?.provenance.enabled).toBe(`config ${config}`);
  });

  it('an AIMET config with a typo in its values fails naming the file', async () => {
    const config = path.join(f.dir, 'aimet-bad.json');
    writeFileSync(config, JSON.stringify({ defaults: { ops: {}, params: { is_quantized: 'maybe' } }, params: {}, op_type: {} }));
    const r = await runQuantsim([
      'quantize',
      f.model,
      '--calib',
      f.calibFile,
      '--out',
      path.join(f.dir, 'x'),
      '--config',
      config,
    ]);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/aimet-bad\.json/);
  });
});

describe('quantsim analyze and sensitivity', () => {
  it.each([
    ['analyze', 'analysis.html and analysis.json'],
    ['sensitivity', 'sensitivity.html and sensitivity.json'],
  ])('%s refuses an --out that is an existing file at once, with a message and no stack trace', async (command, files) => {
    const file = path.join(f.dir, `a-file-${command}`);
    writeFileSync(file, 'x');
    const r = await runQuantsim([command, f.model, '--calib', f.calibFile, '--out', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^quantsim: --out .*a-file-\w+: is a file \(or lies under one\), not a folder\. Give a folder/);
    expect(r.err).toContain(`Give a folder for ${files}`);
    expect(r.err).not.toMatch(/ at |calibrating/);
    const under = await runQuantsim([command, f.model, '--calib', f.calibFile, '--out', path.join(file, 'sub')]);
    expect(under.code).toBe(1);
    expect(under.err).toMatch(/is a file \(or lies under one\)/);
  });

  it('counts progress steps from 0 to the total it announces, and the summary says how they add up', async () => {
    const out = path.join(f.dir, 'report-progress');
    mkdirSync(out, { recursive: true });
    const r = await runQuantsim([
      'sensitivity',
      f.model,
      '--calib',
      f.calibFile,
      '--samples',
      '4',
      '--layers',
      'fc',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const lines = r.err.split('\n').filter((l) => l.startsWith('analyzing: '));
    const counts = lines.map((l) => /^analyzing: (\d+)\/(\d+)/.exec(l)?.slice(1).map(Number) ?? []);
    const total = counts[0]?.[1] ?? -1;
    expect(counts[0]).toEqual([0, total]);
    expect(counts.every((c) => c[1] === total)).toBe(true);
    expect(counts.at(-1)).toEqual([total, total]);
    const summary = /(\d+) simulations \((\d+) steps with the float run and the per-layer comparison\)/.exec(r.out);
    expect(summary, r.out).not.toBeNull();
    expect(Number(summary?.[2])).toBe(total);
    expect(Number(summary?.[1])).toBe(total - 2);
  });
});
