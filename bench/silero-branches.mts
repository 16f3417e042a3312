// Run: pnpm tsx --conditions=@quantsim/source bench/silero-branches.mts   (SAME=1: score the calibration chunks instead)
// Silero VAD v5 with quantizers inside its If branches: mean |p - p_float| of the speech
// probability on held-out synthetic chunks (tones + noise), both sample rates.
import { type QuantBuilder, quant } from 'quantsim';
import { REAL_MODELS } from '../test-support/models.js';

function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
function chunks(count: number, rate: number, seed: number) {
  const r = prng(seed);
  const n = rate === 16000 ? 512 : 256;
  return Array.from({ length: count }, () => {
    const f1 = 0.01 + r() * 0.2,
      f2 = 0.3 + r() * 1.2,
      a = 0.05 + r() * 0.4;
    return {
      input: {
        data: Float32Array.from({ length: n }, (_, i) => a * Math.sin(i * f1) + 0.3 * a * Math.sin(i * f2) + 0.02 * (r() - 0.5)),
        dims: [1, n],
      },
      state: { data: new Float32Array(256), dims: [2, 1, 128] },
      sr: { type: 'int64', data: BigInt64Array.from([BigInt(rate)]), dims: [] },
    };
  });
}
const cal = [...chunks(8, 16000, 1), ...chunks(8, 8000, 2)];
const test = process.env.SAME ? cal.flatMap((c) => [c, c]) : [...chunks(16, 16000, 3), ...chunks(16, 8000, 4)];
const plans: Record<string, (b: QuantBuilder) => QuantBuilder> = {
  'defaults (tf-enhanced, per-channel, bias correction)': (b) => b,
  'W8A8 minmax': (b) => b.defaults({ scheme: 'minmax' }),
  'W8A8 minmax, STFT power float': (b) =>
    b
      .defaults({ scheme: 'minmax' })
      .tensors(/stft\/(Pow|Pow_1|Add)_output_0$/)
      .disable(),
  'W16A16 minmax': (b) => b.defaults({ scheme: 'minmax', activations: 16, params: 16 }),
  'W16A16 minmax, STFT power float': (b) =>
    b
      .defaults({ scheme: 'minmax', activations: 16, params: 16 })
      .tensors(/stft\/(Pow|Pow_1|Add)_output_0$/)
      .disable(),
};
for (const [name, f] of Object.entries(plans)) {
  const sim = await f(quant(REAL_MODELS.sileroV5)).calibrate(cal as never);
  const d = { 16000: 0, 8000: 0 } as Record<number, number>;
  for (const s of test) {
    const q = (await sim.run(s as never)).output?.data as Float32Array;
    const fl = (await sim.runFloat(s as never)).output?.data as Float32Array;
    d[Number(s.sr.data[0])] = (d[Number(s.sr.data[0])] ?? 0) + Math.abs((q[0] as number) - (fl[0] as number)) / 16;
  }
  const inBranches = sim.plan.enabled.filter((q) => q.scope !== undefined).length;
  console.log(`| ${name} | ${inBranches} | ${(d[16000] as number).toExponential(2)} | ${(d[8000] as number).toExponential(2)} |`);
  await sim.release();
}
