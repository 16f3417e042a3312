import { access } from 'node:fs/promises';
import path from 'node:path';
import type { BackendProbe } from '@quantsim/core';
import { loadOrtNode } from '../ort/load-ort.js';
import { firstLine } from '../ort/ort-backend-session.js';
import { ortNodeBinFolder, ortNodePackageDir } from '../ort/ort-package.js';
import { probeModel } from '../ort/probe-model.js';
import { missingLibraries } from '../system/missing-libraries.js';
import { nvidiaGpuNames } from '../system/nvidia-gpus.js';

/**
 * What the CUDA probe looks at. Tests replace parts to simulate machines without the provider,
 * without a GPU, or without cuDNN.
 */
export interface CudaProbeInputs {
  /** The CUDA device the backend uses. */
  readonly deviceId: number;
  readonly platform: string;
  readonly arch: string;
  /** onnxruntime-node's `listSupportedBackends()`. */
  listProviders(): Promise<readonly { readonly name: string; readonly bundled: boolean }[]>;
  /** onnxruntime-node's package folder (where its install script is). */
  packageDir(): string;
  /** The folder holding ONNX Runtime's native libraries, where the CUDA provider must be. */
  binFolder(): string;
  fileExists(file: string): Promise<boolean>;
  /** Libraries `file` needs that the loader cannot find; `undefined` when unknown. */
  missingLibraries(file: string): Promise<readonly string[] | undefined>;
  /** Names of the NVIDIA GPUs visible here, in device order. */
  gpuNames(): Promise<readonly string[]>;
  /** Creates and releases a session on the CUDA provider; rejects with ONNX Runtime's error. */
  tryCuda(): Promise<void>;
}

/** The libraries onnxruntime-node's CUDA provider consists of, per platform. */
const PROVIDER_FILES: Readonly<Record<string, readonly string[]>> = {
  'linux/x64': ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'],
};

/** The real machine: onnxruntime-node, its bin folder, `ldd`, `nvidia-smi`. */
export function defaultCudaProbeInputs(deviceId = 0): CudaProbeInputs {
  return {
    deviceId,
    platform: process.platform,
    arch: process.arch,
    listProviders: async () => (await loadOrtNode()).listSupportedBackends(),
    packageDir: ortNodePackageDir,
    binFolder: () => ortNodeBinFolder(),
    fileExists: (file) =>
      access(file).then(
        () => true,
        () => false,
      ),
    missingLibraries,
    gpuNames: nvidiaGpuNames,
    tryCuda: async () => {
      const ort = await loadOrtNode();
      const session = await ort.InferenceSession.create(probeModel(), {
        executionProviders: [{ name: 'cuda', deviceId }],
        logSeverityLevel: 4,
      });
      await session.release();
    },
  };
}

/**
 * Whether onnxruntime-node can run on CUDA here, and if not, exactly why: wrong platform,
 * provider libraries not installed (npm's onnxruntime-node ships without them), CUDA 12 or
 * cuDNN 9 libraries missing, no GPU, or the provider failing to start. Never throws.
 *
 * ### Examples
 * ```ts
 * const probe = await probeCuda({ ...defaultCudaProbeInputs(0), fileExists: async () => false });
 * // probe.reason: 'onnxruntime-node was installed without its CUDA provider: …'
 * ```
 */
export async function probeCuda(inputs: CudaProbeInputs): Promise<BackendProbe> {
  try {
    return await probe(inputs);
  } catch (error) {
    return {
      available: false,
      reason: `the CUDA probe could not inspect onnxruntime-node (${firstLine(error)})`,
      fix: 'Check that onnxruntime-node is installed beside @quantsim/backends.',
    };
  }
}

async function probe(inputs: CudaProbeInputs): Promise<BackendProbe> {
  const platform = `${inputs.platform}/${inputs.arch}`;
  const files = PROVIDER_FILES[platform];
  if (!files)
    return {
      available: false,
      reason: `onnxruntime-node has a CUDA provider only for linux/x64, and this machine is ${platform}`,
      fix: "Use the 'cpu' backend here, or 'webgpu' where a GPU adapter exists.",
    };
  if (!(await inputs.listProviders()).some((p) => p.name === 'cuda'))
    return {
      available: false,
      reason: "this onnxruntime-node build lists no CUDA provider (listSupportedBackends() has no 'cuda')",
      fix: 'Install onnxruntime-node 1.30.0 or newer from npm, whose linux/x64 build supports CUDA.',
    };
  const bin = inputs.binFolder();
  const missing: string[] = [];
  for (const file of files) if (!(await inputs.fileExists(path.join(bin, file)))) missing.push(file);
  if (missing.length > 0)
    return {
      available: false,
      reason: `onnxruntime-node was installed without its CUDA provider: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing from ${bin}`,
      fix: `Reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 set so that its install script downloads the provider (pnpm skips install scripts: run \`ONNXRUNTIME_NODE_INSTALL=cuda12 node ${path.join(inputs.packageDir(), 'script', 'install.js')}\` instead), on a machine with an NVIDIA driver, CUDA 12 and cuDNN 9.`,
    };
  const [first] = files;
  const unresolved = first ? await inputs.missingLibraries(path.join(bin, first)) : undefined;
  if (unresolved && unresolved.length > 0) return missingLibrariesProbe(unresolved);
  const gpus = await inputs.gpuNames();
  try {
    await inputs.tryCuda();
  } catch (error) {
    const message = firstLine(error);
    if (gpus.length === 0)
      return {
        available: false,
        reason: `no NVIDIA GPU is visible (nvidia-smi and /proc/driver/nvidia list none), and the CUDA provider failed to start: ${message}`,
        fix: "Run on a machine with an NVIDIA GPU and its driver, or pick the 'cpu' backend.",
      };
    if (inputs.deviceId >= gpus.length)
      return {
        available: false,
        reason: `CUDA device ${inputs.deviceId} does not exist: this machine has ${gpus.length} NVIDIA GPU${gpus.length > 1 ? 's' : ''}`,
        fix: `Use a deviceId from 0 to ${gpus.length - 1}.`,
      };
    return {
      available: false,
      reason: `the CUDA provider failed to start on device ${inputs.deviceId} (${gpus[inputs.deviceId] ?? 'NVIDIA GPU'}): ${message}`,
      fix: 'Check that the NVIDIA driver supports CUDA 12 (driver 525 or newer) and that cuDNN 9 is installed; ONNX Runtime printed the details to stderr.',
    };
  }
  return { available: true, device: gpus[inputs.deviceId] ?? `CUDA device ${inputs.deviceId}` };
}

function missingLibrariesProbe(libraries: readonly string[]): BackendProbe {
  const needs: string[] = [];
  if (libraries.some((l) => l.startsWith('libcuda.so'))) needs.push('the NVIDIA driver (libcuda)');
  if (libraries.some((l) => /^lib(cudart|cublas|cufft|curand|cusparse|cusolver|nv)/.test(l)))
    needs.push('the CUDA 12 runtime libraries (cudart, cuBLAS, cuFFT, cuRAND)');
  if (libraries.some((l) => l.startsWith('libcudnn'))) needs.push('cuDNN 9 for CUDA 12');
  if (needs.length === 0) needs.push(libraries.join(', '));
  return {
    available: false,
    reason: `the CUDA provider is installed but the dynamic loader cannot find ${libraries.join(', ')}`,
    fix: `Install ${needs.join(' and ')}, and make them findable through ldconfig or LD_LIBRARY_PATH.`,
  };
}
