import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ModelBuilder } from '@quantsim/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead } from '../../../examples/detector-head/detector-head-model.js';
import { openNpySamples } from '../src/npy/calibration-files.js';
import { encodeNpy } from '../src/npy/npy-format.js';
import { type NpyFixture, npyFixture } from './support/npy-fixture.js';

let f: NpyFixture;
beforeAll(() => {
  f = npyFixture();
});

const graph = () => buildDetectorHead().graph;

describe('calibration data from .npy files', () => {
  it('splits one file along its batch axis and reads a folder one sample per file', () => {
    const one = openNpySamples(f.calibFile, graph(), 'head.onnx');
    expect(one.count).toBe(12);
    const samples = [...one.samples()];
    expect(samples).toHaveLength(12);
    expect(samples[3]?.image?.dims).toEqual([1, 3, 32, 32]);
    expect([...one.samples(5)]).toHaveLength(5);
    const folder = openNpySamples(f.calibDir, graph(), 'head.onnx');
    expect(folder.count).toBe(6);
    // The folder's files hold the same images as the first rows of the single file.
    expect([...([...folder.samples()][2]?.image?.data ?? [])]).toEqual([...(samples[2]?.image?.data ?? [])]);
  });

  it('takes a leading sample axis above the input rank, and files without the batch axis', () => {
    const dir = path.join(f.dir, 'rank');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'five.npy'), encodeNpy(new Float32Array(5 * 3 * 32 * 32), [5, 1, 3, 32, 32]));
    expect(openNpySamples(path.join(dir, 'five.npy'), graph(), 'head.onnx').count).toBe(5);
    const per = path.join(dir, 'per');
    mkdirSync(per);
    writeFileSync(path.join(per, '0.npy'), encodeNpy(new Float32Array(3 * 32 * 32), [3, 32, 32]));
    expect([...openNpySamples(per, graph(), 'head.onnx').samples()][0]?.image?.dims).toEqual([1, 3, 32, 32]);
  });

  it('names the file and the input when the shape or dtype disagrees', () => {
    const dir = path.join(f.dir, 'bad');
    mkdirSync(dir);
    const wrongShape = path.join(dir, 'wrong-shape.npy');
    writeFileSync(wrongShape, encodeNpy(new Float32Array(4 * 3 * 32 * 31), [4, 3, 32, 31]));
    expect(() => openNpySamples(wrongShape, graph(), 'head.onnx')).toThrow(
      /wrong-shape\.npy: has shape \[4, 3, 32, 31\], whose samples have dimension 3 = 31 where the model fixes 32, but input 'image' of head\.onnx is float32 \[1, 3, 32, 32\]/,
    );
    const wrongType = path.join(dir, 'f64.npy');
    writeFileSync(wrongType, encodeNpy(new Float64Array(3 * 32 * 32), [1, 3, 32, 32]));
    expect(() => openNpySamples(wrongType, graph(), 'head.onnx')).toThrow(
      /f64\.npy: holds float64 \('<f8'\), but input 'image' of head\.onnx is float32.*astype\(np\.float32\)/,
    );
    const wrongRank = path.join(dir, 'rank.npy');
    writeFileSync(wrongRank, encodeNpy(new Float32Array(32 * 32), [32, 32]));
    expect(() => openNpySamples(wrongRank, graph(), 'head.onnx')).toThrow(
      /rank\.npy: has shape \[32, 32\] \(rank 2\), but input 'image'/,
    );
    expect(() => openNpySamples(path.join(dir, 'missing.npy'), graph(), 'head.onnx')).toThrow(
      /missing\.npy: no such file or folder/,
    );
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    expect(() => openNpySamples(empty, graph(), 'head.onnx')).toThrow(/empty: holds no \.npy files/);
  });

  it('reads one sub-folder per input for multi-input models and checks each input', () => {
    const b = new ModelBuilder({ opset: 13 });
    const a = b.input('a', 'float32', [1, 4]);
    const c = b.input('b', 'float32', [1, 4]);
    b.output(b.node('Add', [a, c], { outputs: ['y'] }), 'float32', [1, 4]);
    const two = b.build('two-inputs').graph;
    const dir = path.join(f.dir, 'multi');
    for (const input of ['a', 'b']) {
      mkdirSync(path.join(dir, input), { recursive: true });
      for (let i = 0; i < 3; i++)
        writeFileSync(path.join(dir, input, `${i}.npy`), encodeNpy(Float32Array.from([i, i, i, input === 'a' ? 1 : 2]), [1, 4]));
    }
    const samples = [...openNpySamples(dir, two, 'two.onnx').samples()];
    expect(samples).toHaveLength(3);
    expect([...(samples[2]?.b?.data ?? [])]).toEqual([2, 2, 2, 2]);
    expect(() => openNpySamples(f.calibFile, two, 'two.onnx')).toThrow(
      /holds \.npy files for one input, but two\.onnx has 2 inputs \('a', 'b'\)/,
    );
    writeFileSync(path.join(dir, 'b', '3.npy'), encodeNpy(new Float32Array(4), [1, 4]));
    expect(() => openNpySamples(dir, two, 'two.onnx')).toThrow(/has 3 files for input 'a' but 4 for 'b'/);
    mkdirSync(path.join(dir, 'c'));
    expect(() => openNpySamples(dir, two, 'two.onnx')).toThrow(/multi\/c: is not named after an input of two\.onnx/);
  });
});
