import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../../examples/detector-head/detector-head-model.js';
import { quant, StaleEncodingsError } from '../../src/index.js';

const data = detectorImages(4);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'quantsim-stale-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('encodings never disagree with the plan', () => {
  it('simulate() after recalibrate() refuses to reuse the encodings of changed quantizers, naming them', async () => {
    const sim = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const edited = sim.edit().layers(/fc7/).activations(4).recalibrate();
    const err = await edited.simulate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleEncodingsError);
    expect((err as StaleEncodingsError).quantizers).toEqual(['activation:fc7.relu_out']);
    expect((err as Error).message).toMatch(/activation:fc7\.relu_out \(bitwidth 8 → 4\).*\.calibrate\(data\)/s);
    // Calibrating recomputes them, and the exported plan and encodings then agree.
    const again = await edited.calibrate(data);
    const files = await again.export(path.join(dir, 'head'), { formats: ['encodings', 'plan'] });
    const enc = JSON.parse(await readFile(files.encodings ?? '', 'utf8'));
    const plan = JSON.parse(await readFile(files.plan ?? '', 'utf8'));
    const encBits = enc.activation_encodings.find((e: { name: string }) => e.name === 'fc7.relu_out').bw;
    const planBits = plan.quantizers.find((q: { id: string }) => q.id === 'activation:fc7.relu_out').bitwidth;
    expect([encBits, planBits]).toEqual([4, 4]);
    await sim.release();
    await again.release();
  });

  it('simulate() after edit() of an unchanged plan reuses every encoding', async () => {
    const sim = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const again = await sim.edit().recalibrate().simulate();
    expect([...again.encodings.keys()].sort()).toEqual([...sim.encodings.keys()].sort());
    await sim.release();
  });
});
