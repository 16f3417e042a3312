import { readFileSync } from 'node:fs';
import { BackendUnavailableError, ModelBuilder, probeBackend, type QdqElementType } from '@quantsim/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { CpuBackend } from '../src/cpu/index.js';
import { probeWebGpu, WebGpuBackend, type WebGpuProbeInputs } from '../src/webgpu/index.js';
import { ensureXdgRuntimeDir, maxAbsDiff, QDQ_INPUT, QDQ_TYPES, qdqModel, runOnce, strokeImage } from './support.js';

ensureXdgRuntimeDir();

const NO_ADAPTER = new Error(
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...) adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters',
);

/** A Linux machine with lavapipe where the adapter request succeeds; each test breaks one thing. */
function machine(overrides: Partial<WebGpuProbeInputs> = {}): WebGpuProbeInputs {
  return {
    platform: 'linux',
    arch: 'x64',
    listProviders: async () => [
      { name: 'cpu', bundled: true },
      { name: 'webgpu', bundled: true },
    ],
    requestAdapter: async () => undefined,
    vulkan: async () => ({ loader: true, drivers: ['lvp_icd.json'], device: "lavapipe (Mesa's Vulkan on the CPU)" }),
    ...overrides,
  };
}
const noAdapter = () => Promise.reject(NO_ADAPTER);

describe('WebGPU probe', () => {
  it('is available, naming the likely adapter', async () => {
    expect(await probeWebGpu(machine())).toEqual({ available: true, device: "lavapipe (Mesa's Vulkan on the CPU)" });
  });

  it('explains a missing Vulkan loader', async () => {
    const probe = await probeWebGpu(
      machine({ requestAdapter: noAdapter, vulkan: async () => ({ loader: false, drivers: [], device: undefined }) }),
    );
    expect(probe).toEqual({
      available: false,
      reason:
        "no WebGPU adapter: the Vulkan loader libvulkan.so.1 is not installed, and onnxruntime-node's WebGPU provider (Dawn) runs on Vulkan on Linux",
      fix: "Install libvulkan1 and a Vulkan driver: your GPU vendor's, or Mesa's lavapipe to run on the CPU (on Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1).",
    });
  });

  it('explains a machine with no Vulkan driver, or none that finds a device', async () => {
    const none = await probeWebGpu(
      machine({ requestAdapter: noAdapter, vulkan: async () => ({ loader: true, drivers: [], device: undefined }) }),
    );
    expect(none.reason).toBe(
      'no WebGPU adapter: no Vulkan driver is installed (no manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)',
    );
    const old = await probeWebGpu(
      machine({
        requestAdapter: noAdapter,
        vulkan: async () => ({ loader: true, drivers: ['intel_icd.json', 'lvp_icd.json'], device: undefined }),
      }),
    );
    expect(old).toEqual({
      available: false,
      reason:
        'no WebGPU adapter: Dawn found no usable device with the installed Vulkan drivers (intel_icd.json, lvp_icd.json): Failed to get a WebGPU adapter: No supported adapters',
      fix: "Install your GPU's Vulkan driver, or Mesa 23 or newer for lavapipe on the CPU (Debian 12's Mesa 22 is too old: take mesa-vulkan-drivers from bookworm-backports).",
    });
  });

  it('explains a missing adapter on other platforms, and a build without the provider', async () => {
    expect(await probeWebGpu(machine({ platform: 'win32', requestAdapter: noAdapter }))).toEqual({
      available: false,
      reason: 'no WebGPU adapter: Failed to get a WebGPU adapter: No supported adapters',
      fix: "Update the GPU driver (WebGPU runs on Direct3D 12 on Windows and Metal on macOS), or pick the 'cpu' backend.",
    });
    expect(await probeWebGpu(machine({ listProviders: async () => [{ name: 'cpu', bundled: true }] }))).toMatchObject({
      reason: 'this onnxruntime-node build has no WebGPU provider on linux/x64',
    });
  });

  it('makes createSession refuse with the reason when there is no adapter', async () => {
    const webgpu = new WebGpuBackend({ probeInputs: { requestAdapter: noAdapter } });
    const err = await webgpu.createSession(new Uint8Array(), { mode: 'float' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/^Backend 'webgpu' is unavailable: no WebGPU adapter: /);
  });

  it('declares the capabilities found by experiment', () => {
    const webgpu = new WebGpuBackend();
    expect([...webgpu.capabilities.qdqTypes]).toEqual([]);
    expect(webgpu.capabilities.fusesQdq).toBe(false);
    expect([...new WebGpuBackend({ qdqTypes: ['int8'] }).capabilities.qdqTypes]).toEqual(['int8']);
    expect(() => new WebGpuBackend({ preferredLayout: 'NWHC' as 'NHWC' })).toThrow(/preferredLayout must be 'NCHW' or 'NHWC'/);
  });
});

const webgpu = new WebGpuBackend();
const probe = await probeBackend(webgpu);
const skipReason = probe.available ? '' : `${probe.reason}. ${probe.fix ?? ''}`;
if (probe.available) console.log(`webgpu: running on ${probe.device ?? 'an unnamed adapter'}`);
else console.log(`webgpu: SKIPPING the tests on a real adapter: ${skipReason}`);

describe.skipIf(!probe.available)('WebGPU on this machine', () => {
  const cpu = new CpuBackend();

  // Float models, outputs in [0, 1] (probabilities): two devices summing in other orders, with or
  // without fused multiply-adds, differ by about float32's epsilon (2⁻²³ ≈ 1.2e-7) per layer, so
  // ≈ 60 layers give ≈ 7e-6; the tolerance leaves an order of magnitude above that.
  const TOLERANCE = 1e-4;
  const cases = [
    ['PaddleOCR classifier', REAL_MODELS.ocrClassifier, 48, 192],
    ['PaddleOCR detector', REAL_MODELS.ocrDetector, 64, 96],
  ] as const;
  for (const [name, file, h, w] of cases)
    it(`runs the ${name} like the CPU (max |difference| < ${TOLERANCE})`, async () => {
      const model = readFileSync(file);
      for (const seed of [0, 1]) {
        const input = strokeImage(h, w, seed);
        const expected = await runOnce(cpu, model, input);
        const actual = await runOnce(webgpu, model, input);
        expect(actual.dims).toEqual(expected.dims);
        const diff = maxAbsDiff(expected, actual);
        console.log(`webgpu vs cpu, ${name}, input ${seed}: max |difference| ${diff.toExponential(2)} (tolerance ${TOLERANCE})`);
        expect(diff).toBeLessThan(TOLERANCE);
      }
    });

  // These pin the experiment behind WebGpuBackend's capabilities, so that an onnxruntime-node
  // upgrade that changes them fails here. `disable_cpu_ep_fallback` makes a session fail when
  // any node would run on the CPU provider.
  const onWebGpuOnly = async (model: Uint8Array): Promise<'gpu' | 'cpu fallback' | 'fails'> => {
    const open = (fallback: '0' | '1') =>
      ort.InferenceSession.create(model, {
        executionProviders: ['webgpu'],
        logSeverityLevel: 4,
        extra: { session: { disable_cpu_ep_fallback: fallback } },
      });
    for (const fallback of ['1', '0'] as const) {
      try {
        const session = await open(fallback);
        await session.run({ x: new ort.Tensor('float32', QDQ_INPUT.data, QDQ_INPUT.dims) });
        await session.release();
        return fallback === '1' ? 'gpu' : 'cpu fallback';
      } catch {}
    }
    return 'fails';
  };

  it('has DequantizeLinear for int4, uint4, int8 and uint8, and no QuantizeLinear', async () => {
    const found: Record<string, string> = {};
    for (const type of QDQ_TYPES) {
      found[`dq ${type}`] = await onWebGpuOnly(qdqModel(type, 'dq'));
      found[`qdq ${type}`] = await onWebGpuOnly(qdqModel(type, 'qdq'));
    }
    console.log(`webgpu Q/DQ support: ${JSON.stringify(found)}`);
    const expected: Record<string, string> = {};
    for (const type of QDQ_TYPES) {
      expected[`dq ${type}`] = ['int16', 'uint16'].includes(type) ? 'cpu fallback' : 'gpu';
      expected[`qdq ${type}`] = ['int4', 'uint4'].includes(type) ? 'fails' : 'cpu fallback';
    }
    expect(found).toEqual(expected);
  });

  it('runs the Q/DQ types that work at all like the CPU, when a user opts in to them', async () => {
    const optIn: QdqElementType[] = ['int8', 'uint8', 'int16', 'uint16'];
    const gpu = new WebGpuBackend({ qdqTypes: optIn });
    for (const type of optIn) {
      const model = qdqModel(type, 'qdq');
      expect(maxAbsDiff(await runOnce(cpu, model, QDQ_INPUT), await runOnce(gpu, model, QDQ_INPUT)), type).toBe(0);
    }
  });

  // A model whose one weight is 16 MiB, so that a leaked session shows: on lavapipe each session
  // left open grows RSS by ~33 MB, while released cycles level off after about ten (Dawn's and
  // Mesa's caches fill) and then stay within a few MB. As in the CPU test, the bound is measured
  // on the machine at hand, not fixed: after a warm-up, two equal batches of released cycles,
  // then what one session held open costs; the later batch must grow by less than a quarter of
  // a held session per cycle (leaking every session fails that by 4x). With the PaddleOCR models,
  // cache growth and fragmentation are of the same size as a leak, so they cannot tell the two
  // apart in a test's time.
  it('frees sessions: released create/run/release cycles cost far less than held sessions', async () => {
    const model = bigWeightModel();
    const modelMiB = model.length / 2 ** 20;
    const input = { type: 'float32' as const, data: new Float32Array(2048).fill(0.1), dims: [1, 2048] };
    const mib = () => process.memoryUsage().rss / 2 ** 20;
    const cycle = async () => {
      const session = await webgpu.createSession(model, { mode: 'float' });
      await session.run({ x: input });
      await session.release();
    };
    const cycles = 20;
    for (let i = 0; i < 10; i++) await cycle();
    const r0 = mib();
    for (let i = 0; i < cycles; i++) await cycle();
    const r1 = mib();
    for (let i = 0; i < cycles; i++) await cycle();
    const r2 = mib();
    const held = [];
    const h0 = mib();
    for (let i = 0; i < 4; i++) {
      const session = await webgpu.createSession(model, { mode: 'float' });
      await session.run({ x: input });
      held.push(session);
    }
    const perHeldSession = (mib() - h0) / held.length;
    for (const session of held) await session.release();
    const perCycle = (r2 - r1) / cycles;
    console.log(
      `webgpu: ${cycles} cycles grew RSS by ${(r1 - r0).toFixed(1)} then ${(r2 - r1).toFixed(1)} MiB ` +
        `(${(perCycle * 1024).toFixed(0)} KiB per cycle); one held session costs ${perHeldSession.toFixed(2)} MiB`,
    );
    // A held session must cost something measurable: at least half the model (its weight).
    expect(perHeldSession).toBeGreaterThan(modelMiB / 2);
    expect(perCycle).toBeLessThan(perHeldSession / 4);
  });
});

/** y = x · W with W a 2048×2048 float32 initializer (16 MiB). */
function bigWeightModel(): Uint8Array {
  const n = 2048;
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, n]);
  const w = b.initializer(
    'w',
    [n, n],
    Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5),
  );
  b.output(b.node('MatMul', [x, w], { outputs: ['y'] }), 'float32', [1, n]);
  return b.build('<16 MiB MatMul>').toBytes();
}

describe.skipIf(probe.available)('WebGPU absent on this machine', () => {
  it('says why, so the skip above is never silent', () => {
    expect(probe.reason).toMatch(/^(no WebGPU adapter|this onnxruntime-node build)/);
    expect(probe.fix).toBeTruthy();
  });
});
