import { readdirSync, readFileSync } from 'node:fs';
import { BackendUnavailableError, createBackendContainer, probeBackend, registerBackend, resolveBackend } from '@quantsim/core';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { CpuBackend } from '../src/cpu/index.js';
import { CudaBackend, type CudaProbeInputs, defaultCudaProbeInputs, probeCuda } from '../src/cuda/index.js';
import { maxAbsDiff, runOnce, strokeImage } from './support.js';

/** A linux/x64 machine where everything is in place; each test breaks one thing. */
function machine(overrides: Partial<CudaProbeInputs> = {}): CudaProbeInputs {
  return {
    deviceId: 0,
    platform: 'linux',
    arch: 'x64',
    listProviders: async () => [
      { name: 'cpu', bundled: true },
      { name: 'webgpu', bundled: true },
      { name: 'cuda', bundled: false },
    ],
    packageDir: () => '/app/node_modules/onnxruntime-node',
    binFolder: () => '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64',
    fileExists: async () => true,
    missingLibraries: async () => [],
    gpuNames: async () => ['NVIDIA H100 80GB HBM3'],
    tryCuda: async () => undefined,
    ...overrides,
  };
}

describe('CUDA probe', () => {
  it('is available, naming the GPU, when everything is in place', async () => {
    expect(await probeCuda(machine())).toEqual({ available: true, device: 'NVIDIA H100 80GB HBM3' });
  });

  it('explains missing provider libraries: reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12, CUDA 12 and cuDNN 9', async () => {
    const probe = await probeCuda(machine({ fileExists: async (f) => !f.endsWith('libonnxruntime_providers_cuda.so') }));
    expect(probe).toEqual({
      available: false,
      reason:
        'onnxruntime-node was installed without its CUDA provider: libonnxruntime_providers_cuda.so is missing from /app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64',
      fix: 'Reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 set so that its install script downloads the provider (pnpm skips install scripts: run `ONNXRUNTIME_NODE_INSTALL=cuda12 node /app/node_modules/onnxruntime-node/script/install.js` instead), on a machine with an NVIDIA driver, CUDA 12 and cuDNN 9.',
    });
  });

  it('names the CUDA and cuDNN libraries the loader cannot find', async () => {
    const probe = await probeCuda(machine({ missingLibraries: async () => ['libcudnn.so.9', 'libcublasLt.so.12'] }));
    expect(probe.reason).toBe(
      'the CUDA provider is installed but the dynamic loader cannot find libcudnn.so.9, libcublasLt.so.12',
    );
    expect(probe.fix).toBe(
      'Install the CUDA 12 runtime libraries (cudart, cuBLAS, cuFFT, cuRAND) and cuDNN 9 for CUDA 12, and make them findable through ldconfig or LD_LIBRARY_PATH.',
    );
  });

  it('says when there is no GPU, or no such device', async () => {
    const fail = async () => {
      throw new Error('CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=x');
    };
    expect(await probeCuda(machine({ gpuNames: async () => [], tryCuda: fail }))).toMatchObject({
      available: false,
      reason:
        'no NVIDIA GPU is visible (nvidia-smi and /proc/driver/nvidia list none), and the CUDA provider failed to start: CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=x',
      fix: "Run on a machine with an NVIDIA GPU and its driver, or pick the 'cpu' backend.",
    });
    expect(await probeCuda(machine({ deviceId: 2, tryCuda: fail }))).toMatchObject({
      reason: 'CUDA device 2 does not exist: this machine has 1 NVIDIA GPU',
      fix: 'Use a deviceId from 0 to 0.',
    });
    expect((await probeCuda(machine({ tryCuda: fail }))).reason).toMatch(
      /^the CUDA provider failed to start on device 0 \(NVIDIA H100 80GB HBM3\): CUDA failure 100/,
    );
  });

  it('says when the platform or the build has no CUDA provider', async () => {
    expect(await probeCuda(machine({ platform: 'darwin', arch: 'arm64' }))).toMatchObject({
      reason: 'onnxruntime-node has a CUDA provider only for linux/x64, and this machine is darwin/arm64',
    });
    expect(await probeCuda(machine({ listProviders: async () => [{ name: 'cpu', bundled: true }] }))).toMatchObject({
      reason: "this onnxruntime-node build lists no CUDA provider (listSupportedBackends() has no 'cuda')",
    });
    expect(
      await probeCuda(
        machine({
          listProviders: () => Promise.reject(new Error('binding failed')),
        }),
      ),
    ).toMatchObject({ available: false, reason: 'the CUDA probe could not inspect onnxruntime-node (binding failed)' });
  });

  it('gives resolveBackend the reason and fix, and createSession refuses', async () => {
    const cuda = new CudaBackend({ probeInputs: { fileExists: async () => false } });
    const container = registerBackend(registerBackend(createBackendContainer(), new CpuBackend()), cuda);
    const err = await resolveBackend(container, 'cuda').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(
      /^Backend 'cuda' is unavailable: onnxruntime-node was installed without its CUDA provider: libonnxruntime_providers_cuda\.so and libonnxruntime_providers_shared\.so are missing from .*\. Reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
    await expect(cuda.createSession(new Uint8Array(), { mode: 'float' })).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('rejects a malformed device id', () => {
    expect(() => new CudaBackend({ deviceId: -1 })).toThrow(/deviceId must be an integer from 0; received -1/);
  });
});

describe('CUDA on this machine', () => {
  const inputs = defaultCudaProbeInputs(0);
  const bin = inputs.binFolder();
  const hasProvider = inputs.platform === 'linux' && inputs.arch === 'x64';

  it('reports precisely why it is unavailable, or runs the classifier like the CPU', async () => {
    const cuda = new CudaBackend();
    const probe = await probeBackend(cuda);
    console.log(`cuda probe: ${JSON.stringify(probe)}`);
    if (!probe.available) {
      if (hasProvider && !readdirSafe(bin).includes('libonnxruntime_providers_cuda.so')) {
        expect(probe.reason).toMatch(
          new RegExp(
            `^onnxruntime-node was installed without its CUDA provider: libonnxruntime_providers_cuda\\.so .*missing from ${escapeRegExp(bin)}$`,
          ),
        );
        expect(probe.fix).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 .*CUDA 12 and cuDNN 9\.$/);
      } else expect(probe.reason).toBeTruthy();
      return;
    }
    const model = readFileSync(REAL_MODELS.ocrClassifier);
    const input = strokeImage(48, 192, 0);
    const diff = maxAbsDiff(await runOnce(new CpuBackend(), model, input), await runOnce(cuda, model, input));
    console.log(`cuda vs cpu, PaddleOCR classifier: max |difference| ${diff.toExponential(2)} (tolerance 1e-4)`);
    expect(diff).toBeLessThan(1e-4);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
