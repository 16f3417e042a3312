import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CpuBackend } from '@quantsim/backends';
import type { TensorMap } from '@quantsim/core';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodePngImage, encodeGrayscalePng } from '../src/image/png-image.js';
import { ctcGreedyDecode } from '../src/ocr/ctc-decode.js';
import { ocrModelsAssetsDir } from '../src/ocr/ocr-assets.js';
import { loadOcrDictionary } from '../src/ocr/ocr-dictionary.js';
import { defaultOcrLinesDir, loadOcrLines, readOcrLinesLabels } from '../src/ocr/ocr-lines-dataset.js';
import { evaluateRecognizer, ocrCerSampleMetric } from '../src/ocr/recognizer-evaluation.js';
import { recognizerInput } from '../src/ocr/recognizer-input.js';
import { editDistance, scoreLines } from '../src/ocr/text-metrics.js';

const dictionary = loadOcrDictionary();

describe('the recognizer dictionary and CTC decoding', () => {
  it('has 6625 classes: blank, the 6623 lines of ppocr_keys_v1.txt, and a space', () => {
    expect(dictionary.classes).toHaveLength(6625);
    expect(dictionary.classes[0]).toBe('');
    expect(dictionary.classes[6624]).toBe(' ');
    expect(dictionary.has('中')).toBe(true);
    expect(dictionary.has('\u{1F600}')).toBe(false);
  });

  it('collapses repeats and drops blanks, keeping doubled letters split by a blank', () => {
    const c = dictionary.classes.length;
    const id = (ch: string) => dictionary.classes.indexOf(ch);
    const steps = [id('中'), id('中'), 0, id('国'), 0, id('国'), id('国'), 0];
    const data = new Float32Array(steps.length * c);
    steps.forEach((k, t) => {
      data[t * c + k] = 1;
    });
    expect(ctcGreedyDecode({ type: 'float32', data, dims: [1, steps.length, c] }, dictionary)).toEqual(['中国国']);
    expect(() => ctcGreedyDecode({ type: 'float32', data: new Float32Array(10), dims: [1, 2, 5] }, dictionary)).toThrow(
      /has 5 classes but the dictionary has 6625/,
    );
  });

  it('scores by edit distance over code points: CER is edits over reference characters', () => {
    expect(editDistance('北京大学', '北京大学')).toBe(0);
    expect(editDistance('北京大', '北京大学')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    const s = scoreLines(['北京大', 'Hello'], ['北京大学', 'Hello']);
    expect(s).toMatchObject({ accuracy: 0.5, edits: 1, referenceChars: 9, exact: 1 });
    expect(s.cer).toBeCloseTo(1 / 9);
  });
});

describe('PNG images to recognizer input', () => {
  it('decodes grey, grey+alpha, RGB, RGBA, 16-bit and 1-bit PNGs to RGB', () => {
    const grey = decodePngImage(encode({ width: 2, height: 1, data: Uint8Array.from([0, 255]), channels: 1, depth: 8 }), 'g.png');
    expect([...grey.data]).toEqual([0, 0, 0, 255, 255, 255]);
    const rgba = decodePngImage(
      encode({ width: 1, height: 1, data: Uint8Array.from([0, 0, 0, 0]), channels: 4, depth: 8 }),
      'a.png',
    );
    // Transparent pixels read as white paper.
    expect([...rgba.data]).toEqual([255, 255, 255]);
    const rgb = decodePngImage(
      encode({ width: 1, height: 1, data: Uint8Array.from([10, 20, 30]), channels: 3, depth: 8 }),
      'c.png',
    );
    expect([...rgb.data]).toEqual([10, 20, 30]);
    const deep = decodePngImage(
      encode({ width: 1, height: 1, data: Uint16Array.from([65535, 0]), channels: 2, depth: 16 }),
      'd.png',
    );
    expect([...deep.data]).toEqual([255, 255, 255]);
    const bits = decodePngImage(
      encode({ width: 3, height: 1, data: Uint8Array.from([0b10100000]), channels: 1, depth: 1 }),
      'b.png',
    );
    expect([...bits.data]).toEqual([255, 255, 255, 0, 0, 0, 255, 255, 255]);
    expect(() => decodePngImage(new Uint8Array([1, 2, 3]), 'x.png')).toThrow(/x\.png: is not a readable PNG image/);
    const back = decodePngImage(encodeGrayscalePng(rgb), 'r.png');
    expect(back.data[0]).toBe(Math.round(0.299 * 10 + 0.587 * 20 + 0.114 * 30));
  });

  it('resizes to height 48 keeping the aspect ratio, normalises to [-1, 1] and pads to 320 with zeros', () => {
    const white = { width: 50, height: 24, data: new Float32Array(50 * 24 * 3).fill(255) };
    const black = { width: 1000, height: 48, data: new Float32Array(1000 * 48 * 3) };
    const x = recognizerInput([white, black]);
    expect(x.dims).toEqual([2, 3, 48, 320]);
    const at = (n: number, c: number, y: number, col: number) => x.data[((n * 3 + c) * 48 + y) * 320 + col] as number;
    expect(at(0, 0, 10, 0)).toBeCloseTo(1);
    expect(at(0, 2, 47, 99)).toBeCloseTo(1);
    expect(at(0, 1, 20, 100)).toBe(0);
    // Wider than 320 at height 48: squeezed to 320, no padding.
    expect(at(1, 0, 5, 319)).toBeCloseTo(-1);
  });
});

describe('the shipped OCR lines', () => {
  it('holds 64 calibration and 96 evaluation lines whose characters the recognizer knows', () => {
    const labels = readOcrLinesLabels();
    expect(labels.lines.filter((l) => l.split === 'calibration')).toHaveLength(64);
    expect(labels.lines.filter((l) => l.split === 'evaluation')).toHaveLength(96);
    for (const l of labels.lines) for (const ch of l.text) expect(dictionary.has(ch), `${ch} in ${l.text}`).toBe(true);
    const first = labels.lines[0];
    expect(
      readFileSync(path.join(defaultOcrLinesDir(), first?.file ?? ''))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('reads well with the float recognizer (CER under 2% on the first 24 evaluation lines)', async () => {
    const lines = loadOcrLines('evaluation', { limit: 24 });
    const session = await new CpuBackend().createSession(
      readFileSync(path.join(ocrModelsAssetsDir(), 'ch_PP-OCRv4_rec_infer.onnx')),
      { mode: 'float' },
    );
    try {
      const result = await evaluateRecognizer((feeds) => session.run(feeds as never), lines, dictionary);
      expect(result.cer).toBeLessThan(0.02);
      expect(result.accuracy).toBeGreaterThan(0.9);
    } finally {
      await session.release();
    }
  });

  it('as a per-line metric for analyze(), averages to the corpus CER in percent', async () => {
    const lines = loadOcrLines('evaluation', { limit: 12 });
    const session = await new CpuBackend().createSession(
      readFileSync(path.join(ocrModelsAssetsDir(), 'ch_PP-OCRv4_rec_infer.onnx')),
      { mode: 'float' },
    );
    try {
      const { evaluation, metric } = ocrCerSampleMetric(lines, dictionary);
      const outputs: TensorMap[] = [];
      for (const f of evaluation) outputs.push(await session.run(f as never));
      // Each line scored against the next line's reading: many edits, lines of different lengths.
      const shifted = evaluation.map((_, i) => outputs[(i + 1) % outputs.length] as TensorMap);
      const mean = evaluation.reduce((sum, f, i) => sum + metric(shifted[i] as TensorMap, f), 0) / evaluation.length;
      const corpus = scoreLines(
        shifted.map((o) => ctcGreedyDecode(Object.values(o)[0] as never, dictionary).join('')),
        lines.map((l) => l.label.text),
      );
      expect(corpus.edits).toBeGreaterThan(20);
      // Equal up to float64 rounding of a sum of 12 terms.
      expect(Math.abs(mean - 100 * corpus.cer)).toBeLessThan(1e-12 * 100);
      expect(() => metric(shifted[0] as TensorMap, { x: (lines[0] as (typeof lines)[number]).input })).toThrow(
        /not one of its lines/,
      );
    } finally {
      await session.release();
    }
  });

  it('names the folder when the dataset is missing', () => {
    expect(() => loadOcrLines('evaluation', { dir: '/nonexistent/lines' })).toThrow(
      /\/nonexistent\/lines: has no labels\.json.*--data <folder>/,
    );
  });
});
