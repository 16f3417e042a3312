import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { pseudoImage, recognizerImage } from '../../../test-support/recognizer-samples.js';
import { runPlainOrt } from '../../../test-support/run-plain-ort.js';
import {
  convertToOpset,
  dtypeCode,
  type FeedsLike,
  float,
  loadModel,
  Model,
  ModelBuilder,
  type QuantSim,
  quant,
  tensorToFloat32,
} from '../src/index.js';

type TensorProto = NonNullable<ReturnType<Model['constantTensor']>>;
const DT = {
  FLOAT: dtypeCode('float32'),
  INT4: dtypeCode('int4'),
  UINT4: dtypeCode('uint4'),
  INT8: dtypeCode('int8'),
  UINT8: dtypeCode('uint8'),
  INT16: dtypeCode('int16'),
  UINT16: dtypeCode('uint16'),
  INT32: dtypeCode('int32'),
} as const;

const dir = mkdtempSync(path.join(os.tmpdir(), 'quantsim-qdq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Seeded weights in [−s, s]. */
function weights(n: number, scale: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => scale * Math.sin(i * 1.618 + seed) * Math.cos(i * 0.37 + 2 * seed));
}

/** A standard session: full graph optimisation, Q/DQ fused into integer kernels where ORT can. */
function runQdq(file: string | Uint8Array, feeds: FeedsLike): Promise<Record<string, Float32Array>> {
  return runPlainOrt(file, feeds);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Mean over time steps of the L1 distance between two probability rows (0 … 2). */
function meanL1(a: ArrayLike<number>, b: ArrayLike<number>, classes: number): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / (a.length / classes);
}

function initializer(model: Model, name: string): TensorProto | undefined {
  return model.proto.graph?.initializer.find((t) => t.name === name);
}

function nodesOf(model: Model, op: string) {
  return model.proto.graph?.node.filter((n) => n.opType === op) ?? [];
}

/** The DequantizeLinear that feeds input `index` of the node producing `output`'s float value. */
function dqFeeding(model: Model, layerOutput: string, index: number) {
  const g = model.proto.graph;
  const layer = g?.node.find((n) => n.output.some((o) => o === layerOutput || o === `${layerOutput}__float`));
  const input = layer?.input[index];
  return g?.node.find((n) => n.output.includes(input ?? '\u0000'));
}

describe('QDQ export of the PaddleOCR recognizer', () => {
  const dims = [1, 3, 48, 320];
  const sample = (i: number): FeedsLike => ({ x: { data: recognizerImage(i), dims } });
  const calibration = [0, 1, 2, 3].map(sample);
  const evaluation = [5, 7].map(sample);
  const out = 'softmax_11.tmp_0';

  it('matches sim.run in emulate mode exactly, and simulate mode and float as measured', async () => {
    // ONNX Runtime's BiasQuantization transformer inserts Round nodes at the model's opset, which
    // an opset-9 model cannot hold, so the emulate-mode sim runs the recognizer converted to 21.
    const rec21 = convertToOpset(await loadModel(REAL_MODELS.ocrRecognizer), 21);
    const emulate = await quant(rec21).scheme('minmax').mode('emulate').calibrate(calibration);
    const simulate = await quant(rec21).scheme('minmax').calibrate(calibration);
    try {
      const files = await emulate.export(path.join(dir, 'rec'), { formats: ['qdq'] });
      expect(files.qdq).toBe(path.resolve(dir, 'rec.qdq.onnx'));
      for (const feeds of evaluation) {
        const q = (await runQdq(files.qdq as string, feeds))[out] as Float32Array;
        const e = (await emulate.run(feeds))[out]?.data as Float32Array;
        const s = (await simulate.run(feeds))[out]?.data as Float32Array;
        const f = (await simulate.runFloat(feeds))[out]?.data as Float32Array;
        expect(q.length).toBe(40 * 6625);
        // Measured: 0 (the same integer kernels run the same integers).
        expect(maxAbs(q, e)).toBeLessThanOrEqual(1e-6);
        const vsSimulate = meanL1(q, s, 6625);
        const vsFloat = meanL1(q, f, 6625);
        console.log(
          `recognizer QDQ: max |Δp| vs emulate ${maxAbs(q, e)}, vs simulate ${maxAbs(q, s).toFixed(3)} (mean L1 ${vsSimulate.toFixed(3)}), vs float ${maxAbs(q, f).toFixed(3)} (mean L1 ${vsFloat.toFixed(3)})`,
        );
        // Simulate mode keeps float biases and float accumulation; the QDQ model (and ONNX Runtime
        // in emulate mode) rounds biases to int32 and runs integer kernels whose arithmetic depends
        // on the CPU (VNNI dot products against AVX2 pair sums). Either flips near-tie roundings that
        // later layers amplify, so no per-element bound holds over this depth; the gap's size is a
        // property of the machine, not of quantsim (mean L1 0.008–0.10 on an AVX-512 VNNI machine,
        // 0.18 on an AVX2-only one). What must hold anywhere: the deployed model is closer to the
        // simulation than to the float model, whose distance is the quantization error itself.
        expect(vsSimulate).toBeLessThan(vsFloat);
      }
    } finally {
      await emulate.release();
      await simulate.release();
    }
  });

  it('exports from the opset-9 model itself, identical to the emulate-mode sim of the original and of the converted model', async () => {
    const rec9 = await loadModel(REAL_MODELS.ocrRecognizer);
    // The encodings are loaded back onto the original model below, so its biases must stay as
    // they are: no bias correction (with it, they go with the exported .onnx).
    const sim = await quant(rec9).scheme('minmax').biasCorrection(false).calibrate(calibration);
    try {
      const files = await sim.export(path.join(dir, 'rec9'), { formats: ['qdq', 'encodings'] });
      const qdq = loadQdq(files.qdq as string);
      expect(qdq.opset).toBe(21);
      expect(nodesOf(qdq, 'QuantizeLinear').every((n) => n.domain === '')).toBe(true);
      // Same encodings on the converted model, emulate mode: the QDQ model must compute the same.
      const emulate = await quant(convertToOpset(rec9, 21))
        .mode('emulate')
        .loadEncodings(files.encodings as string)
        .simulate();
      // Emulate mode on the opset-9 model itself (it runs the converted QDQ model).
      const emulate9 = await quant(rec9)
        .mode('emulate')
        .loadEncodings(files.encodings as string)
        .simulate();
      try {
        for (const feeds of evaluation) {
          const q = (await runQdq(files.qdq as string, feeds))[out] as Float32Array;
          const e = (await emulate.run(feeds))[out]?.data as Float32Array;
          const e9 = (await emulate9.run(feeds))[out]?.data as Float32Array;
          expect(maxAbs(q, e)).toBeLessThanOrEqual(1e-6);
          expect(maxAbs(q, e9)).toBeLessThanOrEqual(1e-6);
        }
      } finally {
        await Promise.all([emulate.release(), emulate9.release()]);
      }
    } finally {
      await sim.release();
    }
  });
});

/** Conv → Relu → ConvTranspose → GlobalAveragePool → Flatten → Gemm: every weight layout. */
function smallNet(): Model {
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 3, 8, 8]);
  const conv = b.node(
    'Conv',
    [x, b.initializer('conv.w', [4, 3, 3, 3], weights(108, 0.4, 1)), b.initializer('conv.b', [4], [0.3, -0.2, 0.05, 0.11])],
    { name: 'conv', outputs: ['conv_out'], attrs: { pads: [1, 1, 1, 1] } },
  );
  const relu = b.node('Relu', [conv], { name: 'relu', outputs: ['relu_out'] });
  const up = b.node(
    'ConvTranspose',
    [relu, b.initializer('up.w', [4, 2, 2, 2], weights(32, 0.5, 2)), b.initializer('up.b', [2], [0.07, -0.13])],
    { name: 'up', outputs: ['up_out'], attrs: { strides: [2, 2] } },
  );
  const pool = b.node('GlobalAveragePool', [up], { name: 'pool', outputs: ['pool_out'] });
  const flat = b.node('Flatten', [pool], { name: 'flat', outputs: ['flat_out'] });
  b.node(
    'Gemm',
    [flat, b.initializer('fc.w', [2, 5], weights(10, 0.8, 3)), b.initializer('fc.b', [5], [0.1, 0.2, -0.3, 0.05, 0])],
    {
      name: 'fc',
      outputs: ['y'],
      attrs: { alpha: float(1), beta: float(1) },
    },
  );
  b.output('y', 'float32', [1, 5]);
  return b.build('small-net');
}

const smallData = [0, 1, 2, 3, 4, 5].map((i) => ({ x: { data: pseudoImage(3, 8, 8, i + 10), dims: [1, 3, 8, 8] } }));

function loadQdq(file: string): Model {
  return Model.fromProto(Model.decode(readFileSync(file)), file);
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

async function exportQdq(sim: QuantSim, name: string, options: { unsupportedBitwidth?: 'error' | 'clip' } = {}): Promise<Model> {
  const files = await sim.export(path.join(dir, name), { formats: ['qdq'], ...options });
  return loadQdq(files.qdq as string);
}

/**
 * The step of the small net's output quantizer. QDQ and simulate mode differ by int32 bias rounding
 * and integer against float accumulation; on this shallow net a flipped tie upstream moves `y` by a
 * small fraction of its own step, and `y` is re-rounded, so the outputs differ by whole steps of
 * `y`'s grid: at most one from the re-rounding, one more where an upstream flip adds up.
 */
function outputStep(sim: QuantSim): number {
  const step = sim.encodings.get('activation:y')?.channels[0]?.scale;
  expect(step, 'y is quantized').toBeGreaterThan(0);
  return step as number;
}

/** Compares a QDQ model's output with the sim's on every calibration sample; returns the largest difference. */
async function worstDiff(qdq: Model, sim: QuantSim): Promise<number> {
  let worst = 0;
  for (const feeds of smallData) {
    const q = (await runQdq(qdq.toBytes(), feeds)).y as Float32Array;
    const s = (await sim.run(feeds)).y?.data as Float32Array;
    worst = Math.max(worst, maxAbs(q, s));
  }
  return worst;
}

describe('QDQ export of weights, biases and bitwidths', () => {
  it('per-channel weights get per-axis DequantizeLinear: Conv axis 0, ConvTranspose axis 1, Gemm axis 1', async () => {
    const sim = await quant(smallNet()).scheme('minmax').perChannel().mode('emulate').calibrate(smallData);
    try {
      const qdq = await exportQdq(sim, 'per-channel');
      const axisOf = (n: ReturnType<typeof dqFeeding>) => n?.attribute.find((a) => a.name === 'axis')?.i;
      const scaleDims = (n: ReturnType<typeof dqFeeding>) => initializer(qdq, n?.input[1] ?? '')?.dims.map(Number);
      // Conv + Relu is a supergroup: conv_out has no quantizer, relu_out carries the Conv's output encoding.
      const convW = dqFeeding(qdq, 'conv_out', 1);
      expect(convW?.opType).toBe('DequantizeLinear');
      expect(axisOf(convW)).toBe(0n);
      expect(scaleDims(convW)).toEqual([4]);
      expect(initializer(qdq, convW?.input[0] ?? '')?.dataType).toBe(DT.INT8);
      const upW = dqFeeding(qdq, 'up_out', 1);
      expect(axisOf(upW)).toBe(1n);
      expect(scaleDims(upW)).toEqual([2]);
      const fcW = dqFeeding(qdq, 'y', 1);
      expect(axisOf(fcW)).toBe(1n);
      expect(scaleDims(fcW)).toEqual([5]);
      // Per-channel int32 biases: one scale per output channel, axis 0.
      for (const [layer, channels] of [
        ['up_out', 2],
        ['y', 5],
      ] as const) {
        const bias = dqFeeding(qdq, layer, 2);
        expect(initializer(qdq, bias?.input[0] ?? '')?.dataType).toBe(DT.INT32);
        expect(axisOf(bias)).toBe(0n);
        expect(scaleDims(bias)).toEqual([channels]);
      }
      // The float weights are gone: each weight is stored once, as integers.
      expect(initializer(qdq, 'conv.w')).toBeUndefined();
      const diff = await worstDiff(qdq, sim);
      console.log(`small net, per-channel int8: max |Δy| QDQ vs emulate ${diff}`);
      expect(diff).toBeLessThanOrEqual(1e-6);
    } finally {
      await sim.release();
    }
  });

  it('int32 biases equal round(b / (s_in·s_w)) with zero point 0', async () => {
    // Per-tensor weights (per-channel is the default): one bias scale, s_in·s_w.
    const sim = await quant(smallNet()).scheme('minmax').perTensor().mode('emulate').calibrate(smallData);
    try {
      const qdq = await exportQdq(sim, 'bias');
      // The Conv reads the graph input; the ConvTranspose reads relu_out; the Gemm reads flat_out,
      // a Flatten of pool_out (Flatten keeps its input's encoding).
      for (const [layerOut, bias, weight, input] of [
        ['conv_out', 'conv.b', 'conv.w', 'x'],
        ['up_out', 'up.b', 'up.w', 'relu_out'],
        ['y', 'fc.b', 'fc.w', 'pool_out'],
      ] as const) {
        const dq = dqFeeding(qdq, layerOut, 2);
        expect(dq?.opType, bias).toBe('DequantizeLinear');
        const stored = initializer(qdq, dq?.input[0] ?? '') as TensorProto;
        expect(stored.dataType).toBe(DT.INT32);
        expect(Array.from(tensorToFloat32(initializer(qdq, dq?.input[2] ?? '') as TensorProto))).toEqual([0]);
        const sIn = Math.fround(sim.encodings.get(`activation:${input}`)?.channels[0]?.scale as number);
        const sW = Math.fround(sim.encodings.get(`param:${weight}`)?.channels[0]?.scale as number);
        const scale = Math.fround(sIn * sW);
        expect(Array.from(tensorToFloat32(initializer(qdq, dq?.input[1] ?? '') as TensorProto))).toEqual([scale]);
        const b = sim.floatModel.constantValues(bias) as Float32Array;
        const expected = Array.from(b, (v) => roundHalfEven(Math.fround(v / scale)));
        expect(Array.from(tensorToFloat32(stored)), bias).toEqual(expected);
      }
      expect(await worstDiff(qdq, sim)).toBeLessThanOrEqual(1e-6);
    } finally {
      await sim.release();
    }
  });

  it('int4 and int16 weights and activations export with their types and run', async () => {
    for (const [params, activations, wType, aType] of [
      [4, 16, DT.INT4, DT.UINT16],
      [16, 4, DT.INT16, DT.UINT4],
    ] as const) {
      const sim = await quant(smallNet())
        .scheme('minmax')
        .params(params)
        .activations(activations)
        .mode('emulate')
        .calibrate(smallData);
      try {
        const qdq = await exportQdq(sim, `w${params}a${activations}`);
        const w = dqFeeding(qdq, 'conv_out', 1);
        expect(initializer(qdq, w?.input[0] ?? '')?.dataType).toBe(wType);
        const q = nodesOf(qdq, 'QuantizeLinear').find((n) => n.input[0] === 'relu_out__float');
        expect(initializer(qdq, q?.input[2] ?? '')?.dataType).toBe(aType);
        const diff = await worstDiff(qdq, sim);
        console.log(`small net, ${params}-bit weights / ${activations}-bit activations: max |Δy| QDQ vs emulate ${diff}`);
        expect(diff).toBeLessThanOrEqual(1e-6);
      } finally {
        await sim.release();
      }
    }
  });

  it('a 6-bit quantizer is an error naming it, or with clip: Q (uint8), Clip to [0, 63], DQ', async () => {
    const builder = quant(smallNet()).scheme('minmax').layers('relu').activations(6);
    const sim = await builder.calibrate(smallData);
    try {
      const err = await sim.export(path.join(dir, 'six'), { formats: ['qdq'] }).catch((e: unknown) => e);
      expect((err as Error).name).toBe('UnsupportedBitwidthError');
      expect((err as Error).message).toMatch(
        /cannot store 1 quantizer whose bitwidth has no ONNX type .*: activation:relu_out \(6-bit\)\./,
      );
      expect((err as Error).message).toMatch(/unsupportedBitwidth: 'clip'/);
      const qdq = await exportQdq(sim, 'six', { unsupportedBitwidth: 'clip' });
      const q = nodesOf(qdq, 'QuantizeLinear').find((n) => n.input[0] === 'relu_out__float');
      const clip = nodesOf(qdq, 'Clip').find((n) => n.input[0] === q?.output[0]);
      expect(initializer(qdq, q?.input[2] ?? '')?.dataType).toBe(DT.UINT8);
      expect([1, 2].map((i) => Array.from(tensorToFloat32(initializer(qdq, clip?.input[i] ?? '') as TensorProto))[0])).toEqual([
        0, 63,
      ]);
      expect(nodesOf(qdq, 'DequantizeLinear').some((n) => n.input[0] === clip?.output[0])).toBe(true);
      // The simulate-mode sim fake-quantizes the 6-bit tensor in float; the QDQ model runs integer kernels.
      const diff = await worstDiff(qdq, sim);
      console.log(`small net, 6-bit activation (clip form): max |Δy| QDQ vs simulate ${diff}`);
      expect(diff).toBeLessThanOrEqual(2 * outputStep(sim) * (1 + 1e-6));
    } finally {
      await sim.release();
    }
  });

  it('fp16 quantizers are Cast pairs (weights stored as float16); float32 and disabled ones add nothing', async () => {
    const sim = await quant(smallNet())
      .scheme('minmax')
      .layers('up')
      .activations({ bits: 16, dtype: 'float' })
      .params({ bits: 16, dtype: 'float' })
      .layers('fc')
      .activations({ bits: 32, dtype: 'float' })
      .layers('pool')
      .disable()
      .mode('emulate')
      .calibrate(smallData);
    try {
      const qdq = await exportQdq(sim, 'fp16');
      const cast = nodesOf(qdq, 'Cast').find((n) => n.input[0] === 'up_out__float');
      expect(cast?.attribute.find((a) => a.name === 'to')?.i).toBe(BigInt(dtypeCode('float16')));
      expect(nodesOf(qdq, 'Cast').find((n) => n.input[0] === cast?.output[0])?.output[0]).toBe('up_out');
      const w = dqFeeding(qdq, 'up_out', 1);
      expect(w?.opType).toBe('Cast');
      expect(initializer(qdq, w?.input[0] ?? '')?.dataType).toBe(dtypeCode('float16'));
      // y (float32) and pool_out (disabled) keep their producers' outputs.
      expect(qdq.proto.graph?.node.find((n) => n.opType === 'Gemm')?.output).toEqual(['y']);
      expect(qdq.proto.graph?.node.find((n) => n.opType === 'GlobalAveragePool')?.output).toEqual(['pool_out']);
      expect(await worstDiff(qdq, sim)).toBeLessThanOrEqual(1e-6);
    } finally {
      await sim.release();
    }
  });

  it('12-bit (int16 + Clip) and 20-bit (float grid) quantizers export with clip and run', async () => {
    const sim = await quant(smallNet())
      .scheme('minmax')
      .layers('relu')
      .activations(12)
      .layers('up')
      .params(20)
      .calibrate(smallData);
    try {
      await expect(sim.export(path.join(dir, 'wide'), { formats: ['qdq'] })).rejects.toThrow(
        /2 quantizers .*activation:relu_out \(12-bit\), param:up\.w \(20-bit\)/,
      );
      const qdq = await exportQdq(sim, 'wide', { unsupportedBitwidth: 'clip' });
      const q = nodesOf(qdq, 'QuantizeLinear').find((n) => n.input[0] === 'relu_out__float');
      expect(initializer(qdq, q?.input[2] ?? '')?.dataType).toBe(DT.UINT16);
      // ONNX Runtime has no uint16 Clip: the 12-bit grid is clamped after DequantizeLinear.
      const dq = nodesOf(qdq, 'DequantizeLinear').find((n) => n.input[0] === q?.output[0]);
      const clip = nodesOf(qdq, 'Clip').find((n) => n.input[0] === dq?.output[0]);
      expect(clip?.output[0]).toBe('relu_out');
      // 20-bit weights stay float32, on their grid.
      expect(initializer(qdq, 'up.w')?.dataType).toBe(DT.FLOAT);
      // Against simulate mode, whose biases stay float (the QDQ Conv bias is int32).
      const diff = await worstDiff(qdq, sim);
      console.log(`small net, 12-bit activation and 20-bit weight (clip forms): max |Δy| QDQ vs simulate ${diff}`);
      expect(diff).toBeLessThanOrEqual(2 * outputStep(sim) * (1 + 1e-6));
    } finally {
      await sim.release();
    }
  });
});
