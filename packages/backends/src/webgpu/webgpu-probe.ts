import type { BackendProbe } from '@quantsim/core';
import { loadOrtNode } from '../ort/load-ort.js';
import { firstLine } from '../ort/ort-backend-session.js';
import { probeModel } from '../ort/probe-model.js';
import { inspectVulkan, type VulkanEnvironment } from '../system/vulkan-environment.js';

/**
 * What the WebGPU probe looks at. Tests replace parts to simulate machines without an adapter
 * or without Vulkan.
 */
export interface WebGpuProbeInputs {
  readonly platform: string;
  readonly arch: string;
  /** onnxruntime-node's `listSupportedBackends()`. */
  listProviders(): Promise<readonly { readonly name: string; readonly bundled: boolean }[]>;
  /**
   * Makes ONNX Runtime's WebGPU provider request an adapter (by opening and releasing a tiny
   * session); rejects with ONNX Runtime's error when there is none.
   */
  requestAdapter(): Promise<void>;
  /** The Vulkan loader, drivers and likely adapter (Linux). */
  vulkan(): Promise<VulkanEnvironment>;
}

/** The real machine: onnxruntime-node's WebGPU provider, and Vulkan as Linux has it. */
export function defaultWebGpuProbeInputs(): WebGpuProbeInputs {
  return {
    platform: process.platform,
    arch: process.arch,
    listProviders: async () => (await loadOrtNode()).listSupportedBackends(),
    requestAdapter: async () => {
      const ort = await loadOrtNode();
      const session = await ort.InferenceSession.create(probeModel(), {
        executionProviders: ['webgpu'],
        logSeverityLevel: 4,
      });
      await session.release();
    },
    vulkan: () => inspectVulkan(),
  };
}

const VULKAN_FIX =
  "Install libvulkan1 and a Vulkan driver: your GPU vendor's, or Mesa's lavapipe to run on the CPU (on Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1).";

/**
 * Whether onnxruntime-node's WebGPU provider finds an adapter here, and which device it
 * likely is; if not, why (no provider in this build, no Vulkan loader, no Vulkan driver, or no
 * device the installed drivers can drive). Never throws.
 *
 * ### Examples
 * ```ts
 * const probe = await probeWebGpu(defaultWebGpuProbeInputs());
 * // { available: true, device: "lavapipe (Mesa's Vulkan on the CPU)" }
 * ```
 */
export async function probeWebGpu(inputs: WebGpuProbeInputs): Promise<BackendProbe> {
  try {
    return await probe(inputs);
  } catch (error) {
    return {
      available: false,
      reason: `the WebGPU probe could not inspect onnxruntime-node (${firstLine(error)})`,
      fix: 'Check that onnxruntime-node is installed beside @quantsim/backends.',
    };
  }
}

async function probe(inputs: WebGpuProbeInputs): Promise<BackendProbe> {
  if (!(await inputs.listProviders()).some((p) => p.name === 'webgpu'))
    return {
      available: false,
      reason: `this onnxruntime-node build has no WebGPU provider on ${inputs.platform}/${inputs.arch}`,
      fix: "Install onnxruntime-node 1.30.0 or newer, whose builds bundle the WebGPU provider, or pick the 'cpu' backend.",
    };
  const linux = inputs.platform === 'linux';
  try {
    await inputs.requestAdapter();
  } catch (error) {
    const message = firstLine(error).replace(/^.*?(Failed to get a WebGPU adapter)/, '$1');
    if (!linux)
      return {
        available: false,
        reason: `no WebGPU adapter: ${message}`,
        fix: "Update the GPU driver (WebGPU runs on Direct3D 12 on Windows and Metal on macOS), or pick the 'cpu' backend.",
      };
    const vulkan = await inputs.vulkan();
    if (!vulkan.loader)
      return {
        available: false,
        reason:
          "no WebGPU adapter: the Vulkan loader libvulkan.so.1 is not installed, and onnxruntime-node's WebGPU provider (Dawn) runs on Vulkan on Linux",
        fix: VULKAN_FIX,
      };
    if (vulkan.drivers.length === 0)
      return {
        available: false,
        reason: 'no WebGPU adapter: no Vulkan driver is installed (no manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)',
        fix: VULKAN_FIX,
      };
    return {
      available: false,
      reason: `no WebGPU adapter: Dawn found no usable device with the installed Vulkan drivers (${vulkan.drivers.join(', ')}): ${message}`,
      fix: "Install your GPU's Vulkan driver, or Mesa 23 or newer for lavapipe on the CPU (Debian 12's Mesa 22 is too old: take mesa-vulkan-drivers from bookworm-backports).",
    };
  }
  const device = linux ? (await inputs.vulkan()).device : undefined;
  return device === undefined ? { available: true } : { available: true, device };
}
