import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { EncodingsMismatchError, quant, saveModel, writeFilesAtomically } from '../src/index.js';

const data = detectorImages(6);
const NO_QDQ = ['encodings', 'onnx', 'ort-overrides', 'plan'] as const;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'quantsim-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('export', () => {
  it('writes AIMET encodings, the float model, ORT overrides and the plan', async () => {
    const sim = await quant(buildDetectorHead())
      .layers(/fc|bbox/)
      .activations(16)
      .params(16)
      .calibrate(data);
    const files = await sim.export(path.join(dir, 'head'), { formats: NO_QDQ });
    expect(Object.keys(files).sort()).toEqual([...NO_QDQ].sort());
    const enc = JSON.parse(await readFile(files.encodings ?? '', 'utf8'));
    expect(enc.version).toBe('1.0.0');
    const fc6 = enc.param_encodings.find((e: { name: string }) => e.name === 'fc6.weight');
    expect(fc6.bw).toBe(16);
    const overrides = JSON.parse(await readFile(files['ort-overrides'] ?? '', 'utf8'));
    expect(overrides.TensorQuantOverrides['fc6.weight'][0].quant_type).toBe('QInt16');
    const plan = JSON.parse(await readFile(files.plan ?? '', 'utf8'));
    expect(plan.quantizers.find((q: { id: string }) => q.id === 'param:fc6.weight').provenance.bitwidth).toBe(
      '.layers(/fc|bbox/).params(16)',
    );
    await sim.release();
  });

  it('export → loadEncodings → export yields identical files, for every encodings version', async () => {
    const base = quant(buildDetectorHead()).scheme('minmax');
    const sim = await base.calibrate(data);
    for (const version of ['0.6.1', '1.0.0', '2.0.0'] as const) {
      const first = await sim.export(path.join(dir, `v${version}-a`), {
        formats: ['onnx', 'encodings', 'plan'],
        encodingVersion: version,
      });
      // The encodings go with the exported .onnx (the model they were computed on, BatchNorms
      // folded and, after .biasCorrection(), biases corrected), as AIMET's exports do.
      const loaded = await quant(first.onnx ?? '')
        .scheme('minmax')
        .loadEncodings(first.encodings ?? '')
        .simulate();
      expect(loaded.missingEncodings).toEqual([]);
      const second = await loaded.export(path.join(dir, `v${version}-b`), {
        formats: ['encodings', 'plan'],
        encodingVersion: version,
      });
      expect(await readFile(second.encodings ?? '', 'utf8'), version).toBe(await readFile(first.encodings ?? '', 'utf8'));
      // The loaded simulation runs and gives the same outputs as the calibrated one.
      const a = await sim.run(data[0] as never);
      const b = await loaded.run(data[0] as never);
      expect(Array.from(b.bbox_pred_out?.data as Float32Array)).toEqual(Array.from(a.bbox_pred_out?.data as Float32Array));
      await loaded.release();
    }
    await sim.release();
  });

  it('2.0.0 files carry int32 biases (scale s_in·s_w) as AIMET 2.x writes them; int32Bias: false leaves them out', async () => {
    const sim = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const files = await sim.export(path.join(dir, 'int32'), { formats: ['onnx', 'encodings'], encodingVersion: '2.0.0' });
    const file = JSON.parse(await readFile(files.encodings ?? '', 'utf8'));
    type Entry = { name: string; output_dtype: string; y_scale: number | number[]; axis?: number; y_zero_point?: unknown };
    const int32 = (file.encodings as Entry[]).filter((e) => e.output_dtype === 'int32');
    // Two Convs (conv1 with the BatchNorm folded in) and four Gemms, per-channel weights by default.
    expect(int32).toHaveLength(6);
    const f32mul = (a: number, b: number) => Math.fround(Math.fround(a) * Math.fround(b));
    const scale = (id: string) => sim.encodings.get(id)?.channels.map((c) => c.scale) ?? [];
    // fc6 reads flatten_out, whose encoding is the pool's (Flatten only moves values).
    const sIn = scale('activation:backbone.pool_out')[0] ?? 0;
    const fc6 = int32.find((e) => e.name === 'fc6.bias');
    expect(fc6).toEqual({
      axis: 0,
      name: 'fc6.bias',
      output_dtype: 'int32',
      y_scale: scale('param:fc6.weight').map((w) => f32mul(sIn, w)),
    });
    // Strict loading of that file onto the same model reports nothing.
    const loaded = await quant(files.onnx ?? '')
      .scheme('minmax')
      .loadEncodings(files.encodings ?? '')
      .plan();
    expect(loaded.enabled.length).toBeGreaterThan(0);
    const off = await sim.export(path.join(dir, 'int32-off'), {
      formats: ['encodings'],
      encodingVersion: '2.0.0',
      int32Bias: false,
    });
    expect(await readFile(off.encodings ?? '', 'utf8')).not.toMatch(/int32/);
    await expect(sim.export(path.join(dir, 'bad'), { int32Bias: 'yes' as never })).rejects.toThrow(
      /int32Bias must be true or false/,
    );
    await sim.release();
  });

  it('frozen encodings survive calibration; strict loading lists every mismatch', async () => {
    const sim = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const files = await sim.export(path.join(dir, 'frozen'), { formats: ['encodings'] });
    const other = detectorImages(4, 99).map((d) => ({ image: { ...d.image, data: d.image.data.map((v) => v * 3) } }));
    const recal = await quant(buildDetectorHead())
      .scheme('minmax')
      .loadEncodings(files.encodings ?? '')
      .calibrate(other);
    expect(recal.encodings.get('activation:fc6.relu_out')).toEqual(sim.encodings.get('activation:fc6.relu_out'));
    const unfrozen = await quant(buildDetectorHead())
      .scheme('minmax')
      .loadEncodings(files.encodings ?? '', { freeze: false })
      .calibrate(other);
    expect(unfrozen.encodings.get('activation:fc6.relu_out')).not.toEqual(sim.encodings.get('activation:fc6.relu_out'));
    const err = await quant(buildDetectorHead())
      .scheme('minmax')
      .layers(/fc/)
      .params(16)
      .loadEncodings(files.encodings ?? '')
      .plan()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EncodingsMismatchError);
    expect((err as Error).message).toMatch(/fc6\.weight.*bitwidth.*8.*16/s);
    expect((err as Error).message).toMatch(/fc7\.weight.*bitwidth/s);
    await Promise.all([sim.release(), recal.release(), unfrozen.release()]);
  });

  it('never overwrites the source model, and a failed export leaves the previous files intact', async () => {
    const modelPath = path.join(dir, 'source.onnx');
    await saveModel(buildDetectorHead(), modelPath);
    const sim = await quant(modelPath).scheme('minmax').calibrate(data);
    await expect(sim.export(path.join(dir, 'source'), { formats: ['onnx'] })).rejects.toThrow(
      /would overwrite the source model .*source\.onnx\. Choose another prefix/,
    );
    const prefix = path.join(dir, 'keep');
    const first = await sim.export(prefix, { formats: NO_QDQ });
    const before = await Promise.all(Object.values(first).map((f) => readFile(f as string)));
    // A second export with other settings that fails while building one of its files.
    const sixBit = await quant(modelPath).scheme('minmax').layers('fc7').params(6).calibrate(data);
    await expect(sixBit.export(prefix, { formats: [...NO_QDQ, 'qdq'] })).rejects.toThrow();
    const after = await Promise.all(Object.values(first).map((f) => readFile(f as string)));
    expect(after).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp') || f.endsWith('.bak'))).toEqual([]);
    await Promise.all([sim.release(), sixBit.release()]);
  });
});

describe('writeFilesAtomically', () => {
  it('replaces all files or none: a failure in the middle restores the earlier ones', async () => {
    const a = path.join(dir, 'atomic-a.txt');
    const b = path.join(dir, 'atomic-b.txt');
    await writeFile(a, 'old a');
    await writeFile(b, 'old b');
    const blocked = path.join(dir, 'not-a-folder');
    await writeFile(blocked, 'a file where a folder is needed');
    await expect(
      writeFilesAtomically([
        { path: a, data: 'new a' },
        { path: path.join(blocked, 'c.txt'), data: 'c' },
        { path: b, data: 'new b' },
      ]),
    ).rejects.toThrow();
    expect(await readFile(a, 'utf8')).toBe('old a');
    expect(await readFile(b, 'utf8')).toBe('old b');
    await writeFilesAtomically([
      { path: a, data: 'new a' },
      { path: b, data: 'new b' },
    ]);
    expect(await readFile(a, 'utf8')).toBe('new a');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp') || f.endsWith('.bak'))).toEqual([]);
  });
});
