import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebGpuBackend } from '@quantsim/backends';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { BackendUnavailableError, quant } from '../src/index.js';

// Mesa's Vulkan drivers want a runtime folder; give them a private one when none is set.
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(path.join(tmpdir(), 'quantsim-xdg-'));

const probe = await new WebGpuBackend().probe();
if (!probe.available) console.log(`Skipping CPU-versus-WebGPU calibration: ${probe.reason} ${probe.fix ?? ''}`);

/** Deterministic text-line-like inputs for the PaddleOCR direction classifier (1×3×48×192). */
const data = Array.from({ length: 4 }, (_, k) => ({
  x: {
    data: Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.01 * (k + 1)) * Math.cos(i * 0.0007)),
    dims: [1, 3, 48, 192],
  },
}));

describe('the same calibration on cpu and webgpu', () => {
  it.skipIf(!probe.available)(
    'gives encodings within 1e-4 (relative) and outputs within a few output quantization steps on the PaddleOCR classifier',
    async () => {
      for (const scheme of ['minmax', 'tf-enhanced']) {
        const base = quant(REAL_MODELS.ocrClassifier).scheme(scheme);
        const cpu = await base.backend('cpu').calibrate(data);
        const gpu = await base.backend('webgpu').calibrate(data);
        expect([...gpu.encodings.keys()]).toEqual([...cpu.encodings.keys()]);
        let worst = 0;
        for (const [id, enc] of cpu.encodings) {
          const other = gpu.encodings.get(id);
          expect(other?.bitwidth, id).toBe(enc.bitwidth);
          enc.channels.forEach((c, i) => {
            const o = other?.channels[i];
            const rel = Math.abs((o?.scale ?? 0) - c.scale) / c.scale;
            worst = Math.max(worst, rel);
            // Offsets may move by one step when a range edge lands within float noise of a grid point.
            expect(Math.abs((o?.offset ?? 0) - c.offset), id).toBeLessThanOrEqual(1);
          });
        }
        // Encodings come from statistics of the float model, so they differ only by float32
        // accumulation order: about 2⁻²³ × depth (≈ 60 layers), under 1e-5; 1e-4 leaves a margin
        // for a histogram edge that moves by that much.
        expect(worst, scheme).toBeLessThan(1e-4);
        // The two backends run different float kernels (CPU SIMD against Vulkan on lavapipe), so an
        // element that lands within float32 noise of a rounding boundary can round to neighbouring
        // grid points in an upstream quantizer. Such a flip moves that tensor by one of its own steps;
        // the classifier then averages over space (GlobalAveragePool) and the output quantizer
        // re-rounds, so the outputs stay on the output grid and differ by a few whole output steps at
        // most. The bound is in those steps, not in an absolute number measured on one machine.
        const outName = 'softmax_0.tmp_0';
        const outEnc = cpu.encodings.get(`activation:${outName}`);
        const step = outEnc?.channels[0]?.scale ?? Number.NaN;
        const offset = outEnc?.channels[0]?.offset ?? 0;
        expect(step, 'the classifier output is quantized').toBeGreaterThan(0);
        const a = ((await cpu.run(data[0] as never)) as Record<string, { data: Float32Array }>)[outName]?.data;
        const b = ((await gpu.run(data[0] as never)) as Record<string, { data: Float32Array }>)[outName]?.data;
        expect(a?.length).toBe(2);
        let steps = 0;
        for (let i = 0; i < (a?.length ?? 0); i++) {
          const [qa, qb] = [(a?.[i] ?? 0) / step - offset, (b?.[i] ?? 0) / step - offset];
          // Both outputs sit on the grid (float32 rounding of scale × integer: a relative 2⁻²³).
          expect(Math.abs(qa - Math.round(qa)), 'cpu output on the grid').toBeLessThan(1e-3);
          expect(Math.abs(qb - Math.round(qb)), 'webgpu output on the grid').toBeLessThan(1e-3);
          steps = Math.max(steps, Math.abs(Math.round(qa) - Math.round(qb)));
        }
        console.log(
          `${scheme}: worst relative scale difference ${worst.toExponential(2)}, worst output difference ${steps} output step(s) of ${step.toExponential(3)}`,
        );
        expect(steps).toBeLessThanOrEqual(4);
        // The decision itself does not move: the two classes are many steps apart.
        expect(Math.sign((a?.[1] ?? 0) - (a?.[0] ?? 0))).toBe(Math.sign((b?.[1] ?? 0) - (b?.[0] ?? 0)));
        await cpu.release();
        await gpu.release();
      }
    },
  );

  it('an unavailable backend fails calibration with the probe reason, and fallback: cpu opts in', async () => {
    const err = await quant(REAL_MODELS.ocrClassifier)
      .backend('cuda')
      .calibrate(data)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/Backend 'cuda' is unavailable: .*CUDA/);
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => warnings.push(m);
    try {
      const sim = await quant(REAL_MODELS.ocrClassifier)
        .scheme('minmax')
        .backend('cuda', { fallback: 'cpu' })
        .calibrate(data.slice(0, 1));
      expect(sim.backend.name).toBe('cpu');
      await sim.release();
    } finally {
      console.warn = original;
    }
    expect(warnings.join('\n')).toMatch(/backend 'cuda' is unavailable .*using 'cpu' instead/);
  });
});
