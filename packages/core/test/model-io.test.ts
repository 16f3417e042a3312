import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { ExternalDataError, loadModel, ModelBuilder, ModelLoadError, ModelSaveError, saveModel } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'quantsim-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('real models', () => {
  for (const [name, file] of Object.entries(REAL_MODELS)) {
    it(`${name}: loads, round-trips byte for byte, and runs in onnxruntime`, async () => {
      const bytes = await readFile(file);
      const model = await loadModel(file);
      expect(Buffer.compare(Buffer.from(model.toBytes()), bytes)).toBe(0);
      const out = path.join(dir, `${name}.onnx`);
      await saveModel(model, out);
      expect(Buffer.compare(await readFile(out), bytes)).toBe(0);
      const session = await ort.InferenceSession.create(model.toBytes());
      expect(session.inputNames.length).toBeGreaterThan(0);
      await session.release();
    });
  }
});

describe('load errors', () => {
  const expectLoadError = async (source: string | Uint8Array, pattern: RegExp) => {
    const err = await loadModel(source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(pattern);
  };

  it('names a missing file', async () => {
    await expectLoadError(path.join(dir, 'nope.onnx'), /nope\.onnx: the file does not exist\. Check the path/);
  });
  it('names an empty file', async () => {
    const f = path.join(dir, 'empty.onnx');
    await writeFile(f, '');
    await expectLoadError(f, /empty\.onnx: the file is empty/);
  });
  it('rejects a folder', async () => {
    await expectLoadError(dir, /it is a folder, not a file/);
  });
  it('rejects random bytes', async () => {
    const f = path.join(dir, 'random.onnx');
    await writeFile(f, Buffer.from('this is a text file, not a model at all\n'));
    await expectLoadError(f, /random\.onnx: .*(not a valid ONNX protobuf|empty message|no graph|ir_version)/);
  });
  it('rejects a truncated model', async () => {
    const bytes = await readFile(REAL_MODELS.ocrClassifier);
    await expectLoadError(bytes.subarray(0, Math.floor(bytes.length / 2)), /<bytes>: .*(truncated|premature|not a valid)/);
  });
  it('rejects a model without a graph', async () => {
    const proto = new ModelBuilder().buildProto();
    proto.graph = undefined;
    await expectLoadError(new ModelBuilder().build().toBytes().subarray(0, 0), /empty/);
    const { toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('onnx-buf');
    await expectLoadError(toBinary(ModelProtoSchema, proto), /the model has no graph/);
  });
  it('rejects an unsupported IR version', async () => {
    const proto = new ModelBuilder().buildProto();
    proto.irVersion = 99n;
    const { toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('onnx-buf');
    await expectLoadError(toBinary(ModelProtoSchema, proto), /IR version 99 is not supported \(quantsim reads 3 to 13\)/);
  });
  it('rejects a dangling input', async () => {
    const b = new ModelBuilder();
    const x = b.input('x', 'float32', [1]);
    b.output(b.node('Add', [x, 'ghost']));
    await expectLoadError(b.build().toBytes(), /reads tensor 'ghost', which no node, initializer or graph input provides/);
  });
  it('rejects a cycle', async () => {
    const b = new ModelBuilder();
    b.input('x', 'float32', [1]);
    b.node('Add', ['x', 'b'], { outputs: ['a'] });
    b.node('Relu', ['a'], { outputs: ['b'] });
    b.output('b');
    await expectLoadError(b.build().toBytes(), /the graph has a cycle/);
  });
});

function tinyExternalModel(location: string) {
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 4]);
  b.initializer(
    'w',
    [4, 4],
    Array.from({ length: 16 }, (_, i) => i / 8),
  );
  b.output(b.node('MatMul', [x, 'w'], { outputs: ['y'] }), 'float32', [1, 4]);
  const proto = b.buildProto();
  const w = proto.graph?.initializer[0];
  if (!w) throw new Error('no initializer');
  const data = Buffer.from(w.rawData);
  w.rawData = new Uint8Array();
  w.dataLocation = TensorProto_DataLocation.EXTERNAL;
  w.externalData = [
    create(StringStringEntryProtoSchema, { key: 'location', value: location }),
    create(StringStringEntryProtoSchema, { key: 'offset', value: '0' }),
    create(StringStringEntryProtoSchema, { key: 'length', value: String(data.length) }),
  ];
  return { proto, data };
}

describe('external data', () => {
  it('loads a model whose weights live in a .data file, runs it, and saves it with external data', async () => {
    const { toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('onnx-buf');
    const sub = await mkdtemp(path.join(dir, 'ext-'));
    const { proto, data } = tinyExternalModel('weights.data');
    await writeFile(path.join(sub, 'weights.data'), data);
    await writeFile(path.join(sub, 'model.onnx'), toBinary(ModelProtoSchema, proto));
    const model = await loadModel(path.join(sub, 'model.onnx'));
    expect(model.hasExternalData).toBe(true);
    expect(Array.from(model.constantValues('w') ?? []).slice(0, 3)).toEqual([0, 0.125, 0.25]);
    const session = await ort.InferenceSession.create(model.toBytes({ inlineExternal: true }));
    const y = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 0, 0, 0]), [1, 4]) });
    expect(Array.from(y.y?.data as Float32Array)).toEqual([0, 0.125, 0.25, 0.375]);
    await session.release();

    const saved = await saveModel(model, path.join(sub, 'copy.onnx'));
    expect(saved.dataPath).toBe(path.join(sub, 'copy.onnx.data'));
    const again = await loadModel(saved.modelPath);
    expect(again.hasExternalData).toBe(true);
    expect(Array.from(again.constantValues('w') ?? [])).toEqual(Array.from(model.constantValues('w') ?? []));
  });

  it('writes external data when the model is over the inline limit', async () => {
    const b = new ModelBuilder();
    const x = b.input('x', 'float32', [1, 512]);
    b.initializer('w', [512, 512], new Float32Array(512 * 512).fill(0.5));
    b.output(b.node('MatMul', [x, 'w']));
    const saved = await saveModel(b.build(), path.join(dir, 'big.onnx'), { maxInlineBytes: 1 << 19 });
    expect(saved.dataPath).toBeDefined();
    const size = (await readFile(saved.modelPath)).length;
    expect(size).toBeLessThan(4096);
    const again = await loadModel(saved.modelPath);
    expect(again.constantValues('w')?.[1000]).toBe(0.5);
  });

  const escapes: [string, string, RegExp][] = [
    ['an absolute path', '/etc/passwd', /tensor 'w' has external data at '\/etc\/passwd', which is an absolute path/],
    [
      'a parent folder',
      '../outside.data',
      /tensor 'w' has external data at '\.\.\/outside\.data', which points outside the model folder/,
    ],
    ['a nested parent', 'a/../../outside.data', /which points outside the model folder/],
  ];
  for (const [what, location, pattern] of escapes) {
    it(`rejects a location that escapes through ${what}`, async () => {
      const { toBinary } = await import('@bufbuild/protobuf');
      const { ModelProtoSchema } = await import('onnx-buf');
      const sub = await mkdtemp(path.join(dir, 'esc-'));
      await writeFile(path.join(dir, 'outside.data'), Buffer.alloc(64));
      const { proto } = tinyExternalModel(location);
      await writeFile(path.join(sub, 'model.onnx'), toBinary(ModelProtoSchema, proto));
      const err = await loadModel(path.join(sub, 'model.onnx')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExternalDataError);
      expect((err as Error).message).toMatch(pattern);
    });
  }

  it('rejects a symbolic link that leads outside the folder', async () => {
    const { toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('onnx-buf');
    const sub = await mkdtemp(path.join(dir, 'link-'));
    await writeFile(path.join(dir, 'secret.data'), Buffer.alloc(64));
    await symlink(path.join(dir, 'secret.data'), path.join(sub, 'weights.data'));
    const { proto } = tinyExternalModel('weights.data');
    await writeFile(path.join(sub, 'model.onnx'), toBinary(ModelProtoSchema, proto));
    await expect(loadModel(path.join(sub, 'model.onnx'))).rejects.toThrow(
      /is a symbolic link that leads outside the model folder/,
    );
  });

  it('names a missing data file', async () => {
    const { toBinary } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('onnx-buf');
    const sub = await mkdtemp(path.join(dir, 'miss-'));
    const { proto } = tinyExternalModel('weights.data');
    await writeFile(path.join(sub, 'model.onnx'), toBinary(ModelProtoSchema, proto));
    await expect(loadModel(path.join(sub, 'model.onnx'))).rejects.toThrow(
      /external data at 'weights\.data', which does not exist/,
    );
  });
});

describe('saving', () => {
  it('refuses to overwrite the model it was loaded from', async () => {
    const f = path.join(dir, 'mine.onnx');
    await writeFile(f, await readFile(REAL_MODELS.ocrClassifier));
    const model = await loadModel(f);
    const err = await saveModel(model, f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelSaveError);
    expect((err as Error).message).toMatch(/never overwrites a source model\. Choose another path/);
  });
});
