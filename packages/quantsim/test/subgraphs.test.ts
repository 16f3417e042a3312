import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { runPlainOrt } from '../../../test-support/run-plain-ort.js';
import { type Encoding, gridSteps, loadModel, ModelBuilder, quant } from '../src/index.js';

/** Silero VAD v5 inputs: 512 samples at 16 kHz (256 at 8 kHz) of tones, and a zero LSTM state. */
function vadSamples(count: number, rate: 16000 | 8000) {
  const n = rate === 16000 ? 512 : 256;
  return Array.from({ length: count }, (_, k) => ({
    input: {
      data: Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * 0.05 * (k + 1)) + 0.05 * Math.sin(i * 1.3 * k)),
      dims: [1, n],
    },
    state: { data: new Float32Array(2 * 128), dims: [2, 1, 128] },
    sr: { type: 'int64' as const, data: BigInt64Array.from([BigInt(rate)]), dims: [] },
  }));
}

type QuantSimLike = Awaited<ReturnType<ReturnType<typeof quant>['calibrate']>>;

const dir = mkdtempSync(path.join(os.tmpdir(), 'quantsim-subgraphs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * y = If(c, then: Relu(x · W) (W a Constant node inside the branch), else: x · 0.5): quantizers
 * inside both branches, calibrated by samples that take each.
 */
const W = Array.from({ length: 12 }, (_, i) => Math.fround(Math.sin(i * 1.7) * 0.9));

function ifModel() {
  const then = new ModelBuilder({ opset: 13 });
  const w = then.constant('then.w', [4, 3], W);
  then.output(
    then.node('Relu', [then.node('MatMul', ['x', w], { name: 'then_mm', outputs: ['then_mm_out'] })], {
      name: 'then_relu',
      outputs: ['then_out'],
    }),
    'float32',
  );
  const otherwise = new ModelBuilder({ opset: 13 });
  const half = otherwise.constant('else.half', [], [0.5]);
  otherwise.output(otherwise.node('Mul', ['x', half], { name: 'else_mul', outputs: ['else_out'] }), 'float32');
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [2, 4]);
  const c = b.input('c', 'bool', []);
  const y = b.node('If', [c], {
    name: 'branch',
    outputs: ['y_raw'],
    attrs: { then_branch: then.graph('then'), else_branch: otherwise.graph('else') },
  });
  b.output(b.node('Identity', [y], { name: 'out', outputs: ['y'] }), 'float32');
  void x;
  return b.build();
}

function ifSample(random: () => number, take: boolean) {
  return {
    x: { data: Float32Array.from({ length: 8 }, () => random() * 4 - 2), dims: [2, 4] },
    c: { type: 'bool' as const, data: Uint8Array.from([take ? 1 : 0]), dims: [] },
  };
}

describe('If branches are quantized', () => {
  it('a small If model: quantizers inside both branches, simulated and exported as planned', async () => {
    const random = prng(9);
    const calibration = [
      ...Array.from({ length: 6 }, () => ifSample(random, true)),
      ...Array.from({ length: 6 }, () => ifSample(random, false)),
    ];
    const sim = await quant(ifModel())
      .defaults({ scheme: 'minmax' })
      .biasCorrection(false)
      .calibrate(calibration as never);
    try {
      const scoped = sim.plan.quantizers.filter((q) => q.scope !== undefined && q.enabled);
      expect(scoped.map((q) => `${q.id}@${q.scope}`).sort()).toEqual([
        'activation:else_out@branch/else_branch',
        'activation:then_mm_out@branch/then_branch',
        'activation:then_out@branch/then_branch',
        'param:then.w@branch/then_branch',
      ]);
      for (const q of scoped) expect(sim.encodings.get(q.id)?.channels.length).toBeGreaterThan(0);
      // The then branch by hand: every quantizer on its 8-bit minmax grid, in float32.
      const onGrid = (v: number, enc: Encoding, c = 0) => {
        const ch = enc.channels[c] as { scale: number; offset: number };
        const q = Math.min(Math.max(Math.round(v / ch.scale), ch.offset), ch.offset + gridSteps(enc));
        return Math.fround(q * ch.scale);
      };
      const fq = (id: string, v: number) => onGrid(v, sim.encodings.get(id) as Encoding);
      const wq = sim.encodings.get('param:then.w') as Encoding;
      expect(wq.channels.length).toBe(3); // per channel: the MatMul's output axis
      for (const take of [true, false]) {
        const s = ifSample(random, take);
        const got = (await sim.run(s as never)).y?.data as Float32Array;
        const float = (await sim.runFloat(s as never)).y?.data as Float32Array;
        const x = Array.from(s.x.data, (v) => fq('activation:x', v));
        const expected = new Float32Array(take ? 6 : 8);
        if (take) {
          for (let r = 0; r < 2; r++)
            for (let o = 0; o < 3; o++) {
              let acc = 0;
              for (let i = 0; i < 4; i++) acc += (x[r * 4 + i] as number) * onGrid(W[i * 3 + o] as number, wq, o);
              expected[r * 3 + o] = fq('activation:then_out', Math.max(0, fq('activation:then_mm_out', acc)));
            }
        } else
          x.forEach((v, i) => {
            expected[i] = fq('activation:else_out', v * 0.5);
          });
        // Tolerance: one step of the last quantizer, for a product that lands on a rounding tie
        // in a different summation order; every other difference is float32 rounding.
        // (The If's output keeps its branch's encoding: If only passes values on.)
        const step = sim.encodings.get(take ? 'activation:then_out' : 'activation:else_out')?.channels[0]?.scale as number;
        let far = 0;
        got.forEach((v, i) => {
          const d = Math.abs(v - (expected[i] as number));
          expect(d).toBeLessThanOrEqual(step * 1.0001);
          if (d > 1e-5) far++;
        });
        expect(far).toBeLessThanOrEqual(1);
        expect(Math.max(...got.map((v, i) => Math.abs(v - (float[i] as number))))).toBeGreaterThan(0);
      }
      // The QDQ export holds the branch quantizers and runs in plain ONNX Runtime.
      const files = await sim.export(path.join(dir, 'if'), { formats: ['qdq'] });
      for (const [take, level] of [
        [true, 'disabled'],
        [false, 'disabled'],
        [true, 'default'],
        [false, 'default'],
      ] as const) {
        const s = ifSample(random, take);
        const q = (await runPlainOrt(files.qdq as string, s as never, level)).y as Float32Array;
        const e = (await sim.run(s as never)).y?.data as Float32Array;
        const step = sim.encodings.get(take ? 'activation:then_out' : 'activation:else_out')?.channels[0]?.scale as number;
        for (let i = 0; i < q.length; i++)
          expect(Math.abs((q[i] as number) - (e[i] as number))).toBeLessThanOrEqual(step * 1.0001);
      }
    } finally {
      await sim.release();
    }
  });

  it('a main-graph tensor that only branches read gets its quantizer, and branches read the quantized value', async () => {
    const branch = (name: string, factor: number) => {
      const g = new ModelBuilder({ opset: 13 });
      const k = g.constant(`${name}.k`, [], [factor]);
      g.output(g.node('Mul', ['h', k], { name: `${name}_mul`, outputs: [`${name}_out`] }), 'float32');
      return g.graph(name);
    };
    const b = new ModelBuilder({ opset: 13 });
    b.input('x', 'float32', [2, 4]);
    b.input('c', 'bool', []);
    b.node('Relu', ['x'], { name: 'relu', outputs: ['h'] });
    b.output(
      b.node('If', ['c'], {
        name: 'pick',
        outputs: ['y'],
        attrs: { then_branch: branch('half', 0.5), else_branch: branch('twice', 2) },
      }),
      'float32',
    );
    const random = prng(3);
    const calibration = [true, false, true, false].map((take) => ifSample(random, take));
    const sim = await quant(b.build())
      .defaults({ scheme: 'minmax' })
      .calibrate(calibration as never);
    try {
      expect(sim.plan.get('activation:h')?.enabled).toBe(true);
      const s = ifSample(random, true);
      const got = (await sim.run(s as never)).y?.data as Float32Array;
      // h on its grid, halved, on the branch output's grid.
      const hq = (v: number) => {
        const ch = sim.encodings.get('activation:h')?.channels[0] as { scale: number; offset: number };
        return Math.fround(Math.min(Math.max(Math.round(v / ch.scale), ch.offset), ch.offset + 255) * ch.scale);
      };
      const out = sim.encodings.get('activation:half_out')?.channels[0] as { scale: number; offset: number };
      s.x.data.forEach((v, i) => {
        const want =
          Math.min(Math.max(Math.round((hq(Math.max(0, v)) * 0.5) / out.scale), out.offset), out.offset + 255) * out.scale;
        expect(Math.abs((got[i] as number) - want)).toBeLessThanOrEqual(out.scale * 1.0001);
      });
    } finally {
      await sim.release();
    }
  });

  it('Silero VAD v5: quantizers inside both sample-rate branches, calibrated; W8A8 off float by more than A16W16; QDQ export runs', async () => {
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => warnings.push(m);
    const calibration = [...vadSamples(4, 16000), ...vadSamples(2, 8000)];
    const sims = await Promise.all(
      [8, 16].map((bits) =>
        quant(REAL_MODELS.sileroV5)
          .defaults({ activations: bits, params: bits, scheme: 'minmax' })
          .biasCorrection(false)
          .calibrate(calibration as never),
      ),
    ).finally(() => {
      console.warn = original;
    });
    const [w8, w16] = sims as [QuantSimLike, QuantSimLike];
    try {
      expect(warnings.filter((w) => /not quantized|no calibration sample ran/.test(w))).toEqual([]);
      expect(w8.plan.skipped.filter((s) => s.subgraph)).toEqual([]);
      const scoped = w8.plan.enabled.filter((q) => q.scope !== undefined);
      const scopes = new Set(scoped.map((q) => q.scope?.split('/').slice(0, 2).join('/')));
      expect([...scopes].sort()).toEqual(['If_0/else_branch', 'If_0/then_branch']);
      expect(scoped.length).toBeGreaterThanOrEqual(30);
      expect(scoped.filter((q) => q.kind === 'param').length).toBeGreaterThanOrEqual(12);
      for (const q of scoped) expect(w8.encodings.get(q.id)?.channels.length, q.id).toBeGreaterThan(0);
      // On the 16 kHz samples; the 8 kHz ones are dominated by the STFT power (Pow → Sqrt), whose
      // small values any grid flattens at 16 bits too (docs/subgraphs.md).
      const drift = async (sim: QuantSimLike) => {
        let sum = 0;
        for (const s of calibration.slice(0, 4)) {
          const q = (await sim.run(s as never)).output?.data as Float32Array;
          const f = (await sim.runFloat(s as never)).output?.data as Float32Array;
          sum += Math.abs((q[0] as number) - (f[0] as number));
        }
        return sum / 4;
      };
      const d8 = await drift(w8);
      const d16 = await drift(w16);
      expect(d8).toBeGreaterThan(0);
      expect(d16).toBeLessThan(d8);
      const files = await w8.export(path.join(dir, 'vad'), { formats: ['qdq'] });
      // The branch Convs get int32 biases (s_in·s_w), as in the main graph: one per branch Conv with a bias.
      const qdq = await loadModel(files.qdq as string);
      const int32 = qdq.graph.subgraphs.flatMap((b) =>
        b.graph.nodes.filter((n) => n.opType === 'DequantizeLinear' && /__int32_/.test(n.inputs[0] ?? '')),
      );
      const original = await loadModel(REAL_MODELS.sileroV5);
      const withBias = original.graph.subgraphs.flatMap((b) =>
        b.graph.nodes.filter((n) => n.opType === 'Conv' && (n.inputs[2] ?? '') !== ''),
      );
      expect(withBias.length).toBeGreaterThan(0);
      expect(int32.length).toBe(withBias.length);
      for (const s of [calibration[0], calibration[5]]) {
        const q = (await runPlainOrt(files.qdq as string, s as never, 'disabled')).output as Float32Array;
        const e = (await w8.run(s as never)).output?.data as Float32Array;
        // The same Q/DQ ops on the same grids: within one step of the output's 8-bit grid.
        const step = w8.encodings.get('activation:output')?.channels[0]?.scale ?? 1 / 255;
        expect(Math.abs((q[0] as number) - (e[0] as number))).toBeLessThanOrEqual(step * 1.0001);
      }
    } finally {
      await Promise.all(sims.map((s) => s.release()));
    }
  });

  it('Silero VAD v5: a branch no calibration sample takes stays float, with a warning naming it', async () => {
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => warnings.push(m);
    const sim = await quant(REAL_MODELS.sileroV5)
      .calibrate(vadSamples(2, 16000) as never)
      .finally(() => {
        console.warn = original;
      });
    try {
      const warning = warnings.find((w) => /no calibration sample ran/.test(w));
      expect(warning).toMatch(/If_0\/(then|else)_branch \(\d+ activation quantizers\)/);
      expect(warning).toMatch(/stay float/);
      const never = sim.plan.enabled.filter((q) => q.kind === 'activation' && q.scope !== undefined && !sim.encodings.has(q.id));
      expect(never.length).toBeGreaterThan(5);
      expect(new Set(never.map((q) => q.scope?.split('/')[1])).size).toBe(1);
      // It still runs: the branch it was calibrated on is quantized, the other stays float.
      const s = vadSamples(1, 16000)[0];
      const q = (await sim.run(s as never)).output?.data as Float32Array;
      expect(Number.isFinite(q[0] as number)).toBe(true);
      // sim.edit().simulate() keeps them float on purpose, and computes the same.
      const again = await sim.edit().simulate();
      expect(again.missingEncodings).toEqual([]);
      expect((await again.run(s as never)).output?.data).toEqual(q);
      await again.release();
      // Exported, they are disabled quantizers (no encoding, no Q/DQ). Encodings loaded from a
      // file do not say that a quantizer is float on purpose: a missing one is missing, named.
      const prefix = path.join(mkdtempSync(path.join(os.tmpdir(), 'quantsim-unrun-')), 'vad');
      const files = await sim.export(prefix);
      const file = files.encodings as string;
      await expect(quant(REAL_MODELS.sileroV5).loadEncodings(file).simulate()).rejects.toThrow(
        new RegExp(`${never[0]?.tensor}.*missing: file has no encoding`),
      );
      const loaded = await quant(REAL_MODELS.sileroV5).loadEncodings(file, { strict: false }).simulate();
      expect(loaded.missingEncodings).toEqual(expect.arrayContaining([never[0]?.id]));
      await expect(loaded.run(s as never)).rejects.toThrow(/no encodings for \d+ enabled quantizer/);
      await loaded.release();
    } finally {
      await sim.release();
    }
  });
});
