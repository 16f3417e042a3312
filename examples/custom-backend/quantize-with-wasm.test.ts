import { quant } from 'quantsim';
import { describe, expect, it } from 'vitest';
import { classifierInputs, classifierPath, quantizeOnWasm } from './quantize-with-wasm.js';

describe('a fluent quant script on the custom WebAssembly backend', () => {
  it('calibrates and runs on wasm, with the same encodings and outputs as on cpu', async () => {
    const wasm = await quantizeOnWasm();
    const cpu = await quant(classifierPath).scheme('minmax').calibrate(classifierInputs);
    expect(wasm.backend.name).toBe('wasm');
    for (const [id, enc] of cpu.encodings)
      expect(wasm.encodings.get(id)?.channels[0]?.scale, id).toBeCloseTo(enc.channels[0]?.scale ?? 0, 6);
    const a = await wasm.run(classifierInputs[0] as never);
    const b = await cpu.run(classifierInputs[0] as never);
    const name = Object.keys(b)[0] as string;
    const x = a[name]?.data as Float32Array;
    const y = b[name]?.data as Float32Array;
    // Bias correction (on by default) measures on each backend; its float32 sums differ in the last
    // bits, which can round an element near a grid boundary to the neighbouring point in an
    // upstream quantizer. The classifier averages that over space and its output quantizer
    // re-rounds: the outputs stay on the output grid and differ by a few whole output steps at most
    // (as in packages/quantsim/test/backends.test.ts), not by an amount measured on one machine.
    const step = cpu.encodings.get(`activation:${name}`)?.channels[0]?.scale ?? Number.NaN;
    expect(step).toBeGreaterThan(0);
    for (let i = 0; i < y.length; i++) expect(Math.abs((x[i] as number) - (y[i] as number)) / step).toBeLessThanOrEqual(4 + 1e-3);
    await Promise.all([wasm.release(), cpu.release()]);
  });
});
