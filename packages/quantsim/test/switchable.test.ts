import { CpuBackend } from '@quantsim/backends';
import { describe, expect, it } from 'vitest';
import { samples, WORKLOADS } from '../../../bench/workloads.js';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { REAL_MODELS } from '../../../test-support/models.js';
import { seededRandom } from '../../../test-support/random.js';
import { createSwitchableSim, type QuantBuilder, type QuantSim, quant, type SwitchGroup, type TensorMap } from '../src/index.js';

/** Escapes names into one exact-match RegExp. */
function exact(names: readonly string[]): RegExp {
  return new RegExp(`^(?:${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
}

/** The plain builder of a mixed setting: groups at variant 1 get 16 bits, groups left out are disabled. */
function plainBuilder(
  base: QuantBuilder,
  groups: readonly SwitchGroup[],
  choice: ReadonlyMap<string, number>,
  plan: QuantSim['plan'],
) {
  let b = base;
  const tensorsOf = (gs: readonly SwitchGroup[]) => gs.flatMap((g) => g.quantizers.map((id) => plan.get(id)?.tensor as string));
  const wide = groups.filter((g) => choice.get(g.name) === 1);
  const off = groups.filter((g) => !choice.has(g.name));
  const wideParams = tensorsOf(wide.filter((g) => g.kind === 'params'));
  const wideActs = tensorsOf(wide.filter((g) => g.kind === 'activations'));
  if (wideParams.length) b = b.tensors(exact(wideParams)).params(16);
  if (wideActs.length) b = b.tensors(exact(wideActs)).activations(16);
  const offIds = new Set(off.flatMap((g) => g.quantizers));
  const offTensors = plan.quantizers.filter((q) => offIds.has(q.id)).map((q) => q.tensor);
  if (offTensors.length) b = b.tensors(exact(offTensors)).disable();
  return b;
}

/** 10·log10(Σ ref² / Σ (ref − x)²) over every output; Infinity when identical. */
function sqnr(ref: TensorMap, x: TensorMap): number {
  let signal = 0;
  let noise = 0;
  for (const [name, t] of Object.entries(ref)) {
    const a = t.data as Float32Array;
    const b = x[name]?.data as Float32Array;
    for (let i = 0; i < a.length; i++) {
      signal += (a[i] as number) ** 2;
      noise += ((a[i] as number) - (b[i] as number)) ** 2;
    }
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

function expectBitEqual(a: TensorMap, b: TensorMap): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const [name, t] of Object.entries(a)) {
    const x = t.data as Float32Array;
    const y = b[name]?.data as Float32Array;
    expect(y.length).toBe(x.length);
    let differing = 0;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differing++;
    expect(differing, `${name}: elements that differ`).toBe(0);
  }
}

async function checkAgainstPlain(
  base: QuantBuilder,
  calibration: Iterable<unknown> | (() => Iterable<unknown>),
  feeds: readonly unknown[],
  seed: number,
  settings: number,
  exact: boolean,
) {
  const stats = await base.collectStats(calibration as never);
  const w8 = await base.fromStats(stats);
  const w16 = await base.activations(16).params(16).fromStats(stats);
  const switchable = await createSwitchableSim([
    { name: 'W8A8', sim: w8 },
    { name: 'W16A16', sim: w16 },
  ]);
  const random = seededRandom(seed);
  try {
    const groups = switchable.groups;
    expect(groups.length).toBeGreaterThan(3);
    const choices: [string, ReadonlyMap<string, number>][] = [
      ['all 8-bit', switchable.setting(() => 0)],
      ['all float', switchable.setting(() => undefined)],
      ['weights only', switchable.setting((g) => (g.kind === 'params' ? 0 : undefined))],
      ['activations only', switchable.setting((g) => (g.kind === 'activations' ? 0 : undefined))],
    ];
    for (let k = 0; k < settings; k++) {
      const pick = () => {
        const r = random();
        return r < 0.2 ? undefined : r < 0.6 ? 1 : 0;
      };
      choices.push([`random mix ${k}`, switchable.setting(pick)]);
    }
    for (const [label, choice] of choices) {
      const plain = await plainBuilder(base, groups, choice, w8.plan).fromStats(stats);
      try {
        for (const f of feeds) {
          const got = await switchable.run(f as never, choice);
          const want = await plain.run(f as never);
          if (exact) expectBitEqual(got, want);
          else {
            // ONNX Runtime's layout pass (NCHWc, level 'all') treats a Conv inside an If branch
            // otherwise than in the plain graph, so results differ by float32 rounding, which a
            // downstream quantizer may turn into a step. That stays an order of magnitude (10 dB)
            // below the quantization noise being measured.
            const quantNoise = sqnr(await plain.runFloat(f as never), want);
            const switchNoise = sqnr(want, got);
            if (label === 'all float') expect(switchNoise).toBeGreaterThan(100);
            else expect(switchNoise, `switch ${switchNoise} dB, quantization ${quantNoise} dB`).toBeGreaterThan(quantNoise + 10);
          }
        }
      } catch (e) {
        throw new Error(`${label}: ${(e as Error).message}`);
      } finally {
        await plain.release();
      }
    }
  } finally {
    await switchable.release();
    await w8.release();
    await w16.release();
  }
}

// Bit-for-bit checks run without ONNX Runtime's layout pass (NCHWc), which rewrites Convs
// inside If branches otherwise than in the plain graph; every other optimization is on.
const extended = new CpuBackend({ graphOptimizationLevel: 'extended' });
// The recognizer's float graph has patterns ONNX Runtime fuses at 'basic' and 'extended'
// (LayerNormalization, MatMul+Add) when no quantizer sits between them: its exact check runs
// with graph rewrites off.
const unoptimized = new CpuBackend({ graphOptimizationLevel: 'disabled' });

describe('switchable simulation', () => {
  it('equals plain simulations of the same plan bit for bit on a small model', async () => {
    const data = detectorImages(8);
    await checkAgainstPlain(quant(buildDetectorHead()).backend(extended), data, data.slice(0, 3), 5, 6, true);
  });

  it('matches plain simulations with ONNX Runtime layout optimizations on (level all)', async () => {
    const data = detectorImages(8);
    await checkAgainstPlain(quant(buildDetectorHead()), data, data.slice(0, 2), 6, 3, false);
  });

  it('names an unknown group and an unknown variant', async () => {
    const data = detectorImages(2);
    const sim = await quant(buildDetectorHead()).calibrate(data);
    const s = await createSwitchableSim([{ name: 'W8A8', sim }]);
    try {
      await expect(s.run(data[0] as never, new Map([['nope', 0]]))).rejects.toThrow(/No switch group 'nope'/);
      const g = s.groups[0]?.name as string;
      await expect(s.run(data[0] as never, new Map([[g, 3]]))).rejects.toThrow(/no variant 3/);
    } finally {
      await s.release();
      await sim.release();
    }
  });

  it('equals plain simulations bit for bit on Silero VAD v5, whose quantizers sit in If branches', async () => {
    const vad = (rate: 16000 | 8000, k: number) => {
      const n = rate === 16000 ? 512 : 256;
      return {
        input: {
          data: Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * 0.05 * (k + 1)) + 0.05 * Math.sin(i * 1.3 * k)),
          dims: [1, n],
        },
        state: { data: new Float32Array(256), dims: [2, 1, 128] },
        sr: { type: 'int64' as const, data: BigInt64Array.from([BigInt(rate)]), dims: [] },
      };
    };
    const data = [0, 1, 2].flatMap((k) => [vad(16000, k), vad(8000, k)]);
    const base = quant(REAL_MODELS.sileroV5).defaults({ scheme: 'minmax' }).biasCorrection(false).backend(unoptimized);
    const plan = await base.plan();
    expect(plan.enabled.filter((q) => q.scope !== undefined).length).toBeGreaterThan(20);
    await checkAgainstPlain(base, data, [data[0], data[1]], 7, 3, true);
    // The branch quantizers are switch groups of their own.
    const sim = await base.calibrate(data);
    const switchable = await createSwitchableSim([{ name: 'W8A8', sim }]);
    try {
      const inBranches = switchable.groups.filter((g) => g.quantizers.every((id) => sim.plan.get(id)?.scope !== undefined));
      expect(inBranches.length).toBeGreaterThan(20);
    } finally {
      await switchable.release();
      await sim.release();
    }
  });

  it('equals plain simulations bit for bit on the PaddleOCR recognizer', async () => {
    const w = WORKLOADS.recognizer;
    if (!w) throw new Error('no recognizer workload');
    await checkAgainstPlain(
      quant(w.model).defaults({ perChannel: false }).backend(unoptimized),
      () => samples(w, 4),
      [w.sample(9)],
      3,
      1,
      true,
    );
  }, 1_800_000);
});
