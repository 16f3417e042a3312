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
    // Bias correction (on by default) measures on each backend, and the two run different float
    // kernels (WebAssembly SIMD, MLAS with AVX2 or AVX-512): float32 sums differ in the last bits,
    // which can round an element near a grid boundary to the neighbouring point in an upstream
    // quantizer, and the network carries such a flip to its output by a gain no bound here knows
    // (4 output steps on an AVX-512 machine, 8 on an AVX2-only one). What holds on every machine:
    // both outputs lie on the output quantizer's grid, and the decision is the same.
    const enc = cpu.encodings.get(`activation:${name}`)?.channels[0];
    const step = enc?.scale ?? Number.NaN;
    const offset = enc?.offset ?? 0;
    expect(step).toBeGreaterThan(0);
    const onGrid = (v: number) => Math.abs(v / step - offset - Math.round(v / step - offset)) < 1e-3;
    let steps = 0;
    for (let i = 0; i < y.length; i++) {
      expect(onGrid(x[i] as number) && onGrid(y[i] as number), `output ${i} on the output grid`).toBe(true);
      steps = Math.max(steps, Math.round(Math.abs((x[i] as number) - (y[i] as number)) / step));
    }
    const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));
    expect(argmax(x)).toBe(argmax(y));
    console.log(`wasm vs cpu: worst output difference ${steps} output step(s) of ${step.toExponential(3)}`);
    await Promise.all([wasm.release(), cpu.release()]);
  });
});
