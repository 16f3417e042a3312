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
    for (let i = 0; i < y.length; i++) expect(Math.abs((x[i] as number) - (y[i] as number))).toBeLessThan(1e-4);
    await Promise.all([wasm.release(), cpu.release()]);
  });
});
