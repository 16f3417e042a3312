import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BackendError,
  BackendUnavailableError,
  createBackendContainer,
  InvalidArgumentError,
  LOGGER,
  ModelBuilder,
  type QdqElementType,
  resolveBackend,
  UnsupportedError,
} from '@quantsim/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { runTsChild } from '../../../test-support/run-child.js';
import { CpuBackend, fromOrtTensor, registerDefaultBackends, toOrtSessionOptions, toOrtTensor } from '../src/index.js';
import { QDQ_INPUT, QDQ_TYPES, qdqModel, strokeImage } from './support.js';

const classifier = readFileSync(REAL_MODELS.ocrClassifier);

function twoOutputModel(): Uint8Array {
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 4]);
  b.output(b.node('Add', [x, x], { outputs: ['sum'] }), 'float32', [1, 4]);
  b.output(b.node('Mul', [x, x], { outputs: ['square'] }), 'float32', [1, 4]);
  return b.build().toBytes();
}

const x4 = { type: 'float32' as const, data: Float32Array.from([1, 2, 3, 4]), dims: [1, 4] };

const RANGES: Record<QdqElementType, [number, number]> = {
  int4: [-8, 7],
  uint4: [0, 15],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
};

/** QuantizeLinear then DequantizeLinear as ONNX defines them (round half to even, saturate). */
function fakeQuant(values: Float32Array, type: QdqElementType): number[] {
  const [lo, hi] = RANGES[type];
  const scale = Math.fround(4 / (hi - lo));
  const zp = Math.round((lo + hi) / 2);
  return Array.from(values, (v) => {
    const q = Math.fround(v / scale);
    const r = Math.round(q);
    const even = Math.abs(q % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    return Math.fround((Math.min(hi, Math.max(lo, even + zp)) - zp) * scale);
  });
}

describe('CpuBackend', () => {
  const cpu = new CpuBackend({ intraOpThreads: 1 });

  it('is available and names the CPU', async () => {
    const probe = await cpu.probe();
    expect(probe.available).toBe(true);
    expect(probe.device).toMatch(/\(\d+ threads\)$/);
    expect([...cpu.capabilities.qdqTypes].sort()).toEqual(['int16', 'int4', 'int8', 'uint16', 'uint4', 'uint8']);
    expect(cpu.capabilities.fusesQdq).toBe(true);
  });

  it('runs the PaddleOCR direction classifier', async () => {
    const session = await cpu.createSession(classifier, { mode: 'float' });
    try {
      expect(session.inputNames).toEqual(['x']);
      const outputs = await session.run({ x: strokeImage(48, 192, 0) });
      const [name] = session.outputNames;
      const probs = outputs[name ?? ''];
      expect(probs?.type).toBe('float32');
      expect(probs?.dims).toEqual([1, 2]);
      const [p0 = 0, p1 = 0] = Array.from(probs?.data ?? [], Number);
      expect(p0 + p1).toBeCloseTo(1, 5);
    } finally {
      await session.release();
    }
  });

  it('returns only the fetched outputs', async () => {
    const session = await cpu.createSession(twoOutputModel(), { mode: 'float' });
    expect(session.outputNames).toEqual(['sum', 'square']);
    const all = await session.run({ x: x4 });
    expect(Object.keys(all).sort()).toEqual(['square', 'sum']);
    const some = await session.run({ x: x4 }, ['square']);
    expect(Object.keys(some)).toEqual(['square']);
    expect(Array.from(some.square?.data ?? [], Number)).toEqual([1, 4, 9, 16]);
    await session.release();
  });

  for (const mode of ['simulate', 'emulate'] as const)
    it(`runs QuantizeLinear/DequantizeLinear of every element type in ${mode} mode, as ONNX defines them`, async () => {
      for (const type of QDQ_TYPES) {
        const session = await cpu.createSession(qdqModel(type, 'qdq'), { mode });
        const { y } = await session.run({ x: QDQ_INPUT });
        await session.release();
        expect(Array.from(y?.data ?? [], Number), type).toEqual(fakeQuant(QDQ_INPUT.data as Float32Array, type));
      }
    });

  it('maps session options onto ONNX Runtime: simulate keeps Q/DQ as float arithmetic', () => {
    expect(toOrtSessionOptions({ mode: 'simulate' }, {}, ['cpu'])).toEqual({
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      extra: { session: { disable_quant_qdq: '1' } },
    });
    expect(toOrtSessionOptions({ mode: 'emulate', intraOpThreads: 3 }, { intraOpThreads: 1 }, ['cpu'])).toMatchObject({
      intraOpNumThreads: 3,
      extra: { session: { disable_quant_qdq: '0' } },
    });
    expect(toOrtSessionOptions({ mode: 'float' }, { intraOpThreads: 2, graphOptimizationLevel: 'basic' }, ['cpu'])).toMatchObject(
      { intraOpNumThreads: 2, graphOptimizationLevel: 'basic', extra: { session: {} } },
    );
  });

  it('releases once, after the runs in flight, and refuses to run afterwards', async () => {
    const session = await cpu.createSession(classifier, { mode: 'float' });
    const running = session.run({ x: strokeImage(48, 192, 1) });
    const released = session.release();
    expect(session.release()).toBe(released);
    await expect(running).resolves.toHaveProperty(session.outputNames[0] ?? '');
    await released;
    await session.release();
    const err = await session.run({ x: strokeImage(48, 192, 1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toBe(
      "This 'cpu' session was released and cannot run again. Create a new session with backend.createSession().",
    );
  });

  it("wraps ONNX Runtime's errors in BackendError", async () => {
    const bad = await cpu.createSession(new Uint8Array([1, 2, 3]), { mode: 'float' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BackendError);
    expect((bad as BackendError).code).toBe('BACKEND');
    expect((bad as Error).message).toMatch(/^Backend 'cpu' could not load the model: /);
    const session = await cpu.createSession(twoOutputModel(), { mode: 'float' });
    const err = await session.run({ wrong: x4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(
      /^Backend 'cpu' failed to run the model: input 'x' is missing in 'feeds'\. Check the inputs/,
    );
    expect((err as Error).cause).toBeInstanceOf(Error);
    await session.release();
  });

  it('rejects malformed options', () => {
    expect(() => new CpuBackend({ intraOpThreads: 0 })).toThrow(InvalidArgumentError);
    expect(() => new CpuBackend({ intraOpThreads: 1.5 })).toThrow(/intraOpThreads must be a positive integer; received 1\.5/);
    expect(() => new CpuBackend({ graphOptimizationLevel: 'max' as 'all' })).toThrow(
      /graphOptimizationLevel must be 'disabled', 'basic', 'extended' or 'all'; received 'max'/,
    );
  });

  // A leak is linear in the number of cycles; allocator growth (glibc arenas, one per ORT
  // thread, fragmentation) levels off and differs between machines: 200 cycles grew RSS by
  // 5 MiB on one machine and 100 MiB on another. So the child measures, on this machine, what
  // one session held open costs, runs two equal batches of released cycles, and the test
  // requires the later batch to grow by less than a quarter of a session per cycle. Leaking
  // every session fails that by 4x; MALLOC_ARENA_MAX=2 keeps arena growth out of the figure.
  it('frees native memory: released sessions cost far less than held ones', async () => {
    const child = fileURLToPath(new URL('./session-cycles-child.ts', import.meta.url));
    const outcome = await runTsChild(child, ['150'], 300_000, { MALLOC_ARENA_MAX: '2' });
    expect(outcome.signal, outcome.stderr).toBeNull();
    expect(outcome.code, outcome.stderr).toBe(0);
    const m = JSON.parse(outcome.stdout.trim().split('\n').at(-1) ?? '{}') as {
      cycles: number;
      firstBatch: number;
      secondBatch: number;
      perHeldSession: number;
      modelMiB: number;
    };
    const perCycle = m.secondBatch / m.cycles;
    console.log(
      `cpu: ${m.cycles} cycles grew RSS by ${m.firstBatch.toFixed(1)} then ${m.secondBatch.toFixed(1)} MiB ` +
        `(${(perCycle * 1024).toFixed(0)} KiB per cycle); one held session costs ${m.perHeldSession.toFixed(2)} MiB`,
    );
    // A held session must cost something measurable, or the comparison below means nothing:
    // at least half the model file (its weights live in the session).
    expect(m.perHeldSession).toBeGreaterThan(m.modelMiB / 2);
    expect(perCycle).toBeLessThan(m.perHeldSession / 4);
  });
});

describe('registerDefaultBackends', () => {
  it('registers cpu, cuda and webgpu, resolved by name', async () => {
    const container = registerDefaultBackends(createBackendContainer(), { cpu: { intraOpThreads: 1 } });
    const cpu = await resolveBackend(container, 'cpu');
    expect(cpu).toBeInstanceOf(CpuBackend);
    await expect(resolveBackend(container, 'cdua')).rejects.toThrow(
      "No backend named 'cdua' is registered; the registered backends are 'cpu', 'cuda', 'webgpu'. Did you mean 'cuda'?",
    );
  });

  it('does not leak between containers', async () => {
    const withDefaults = registerDefaultBackends(createBackendContainer());
    await expect(resolveBackend(createBackendContainer(), 'cpu')).rejects.toThrow(/this container has no backends at all/);
    expect(withDefaults).not.toBe(createBackendContainer());
  });

  it("throws BackendUnavailableError for a backend that cannot run, unless fallback: 'cpu'", async () => {
    const container = registerDefaultBackends(createBackendContainer(), {
      webgpu: {
        probeInputs: { requestAdapter: () => Promise.reject(new Error('Failed to get a WebGPU adapter: No supported adapters')) },
      },
    });
    const warnings: string[] = [];
    container.register(LOGGER, { useValue: { warn: (m: string) => warnings.push(m) } });
    await expect(resolveBackend(container, 'webgpu')).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await resolveBackend(container, 'webgpu', { fallback: 'cpu' })).toBeInstanceOf(CpuBackend);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^quantsim: backend 'webgpu' is unavailable \(no WebGPU adapter: /);
  });
});

describe('tensor conversion', () => {
  it('round-trips every numeric element type without copying', () => {
    const cases = [
      { type: 'float32', data: new Float32Array([1.5, -2]), dims: [2] },
      { type: 'float64', data: new Float64Array([1.5]), dims: [1, 1] },
      { type: 'int8', data: new Int8Array([-3, 4]), dims: [2] },
      { type: 'uint16', data: new Uint16Array([65535]), dims: [1] },
      { type: 'float16', data: new Uint16Array([0x3c00]), dims: [1] },
      { type: 'int64', data: new BigInt64Array([-5n]), dims: [1] },
      { type: 'bool', data: new Uint8Array([1, 0]), dims: [2] },
    ] as const;
    for (const tensor of cases) {
      const back = fromOrtTensor(toOrtTensor(tensor, ort.Tensor), tensor.type);
      expect(back).toEqual({ type: tensor.type, data: tensor.data, dims: tensor.dims });
      expect(back.data).toBe(tensor.data);
    }
  });

  it('names what it cannot convert', () => {
    expect(() => toOrtTensor({ type: 'bfloat16', data: new Uint16Array(1), dims: [1] }, ort.Tensor)).toThrow(UnsupportedError);
    expect(() => toOrtTensor({ type: 'float32', data: new Float32Array(3), dims: [2, 2] }, ort.Tensor)).toThrow(
      /A float32 tensor of shape \[2, 2\] cannot be made from a Float32Array of 3 elements/,
    );
    expect(() => fromOrtTensor(new ort.Tensor('string', ['a'], [1]), 'label')).toThrow(
      /Output 'label' has element type string, which quantsim cannot read/,
    );
    expect(() => fromOrtTensor(42, 'y')).toThrow(/Output 'y' is not a tensor \(received 42\)/);
  });
});
