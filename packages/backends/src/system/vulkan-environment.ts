import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { nvidiaGpuNames } from './nvidia-gpus.js';

/** What a Linux machine offers Dawn (onnxruntime-node's WebGPU implementation), which runs on Vulkan. */
export interface VulkanEnvironment {
  /** Whether the Vulkan loader, `libvulkan.so.1`, was found. */
  readonly loader: boolean;
  /** The installed Vulkan driver manifests, for example `lvp_icd.json` (Mesa's lavapipe). */
  readonly drivers: readonly string[];
  /**
   * The adapter Dawn most likely picks: a GPU whose vendor's driver is installed, before
   * lavapipe, which runs on the CPU. `undefined` when nothing fits.
   */
  readonly device: string | undefined;
}

const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
  '/lib64',
  '/lib',
  '/usr/local/lib',
];

/** Looks at the Vulkan loader, driver manifests and GPUs of this Linux machine. Never throws. */
export async function inspectVulkan(env: NodeJS.ProcessEnv = process.env): Promise<VulkanEnvironment> {
  const libraryDirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== ''), ...LIBRARY_DIRS];
  const found = await Promise.all(libraryDirs.map((d) => exists(path.join(d, 'libvulkan.so.1'))));
  const drivers = await driverManifests(env);
  return { loader: found.includes(true), drivers, device: await likelyDevice(drivers) };
}

async function driverManifests(env: NodeJS.ProcessEnv): Promise<string[]> {
  const explicit = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (explicit)
    return explicit
      .split(':')
      .filter((f) => f !== '')
      .map((f) => path.basename(f));
  const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter((d) => d !== '');
  const dirs = [...new Set(['/etc/vulkan/icd.d', ...dataDirs.map((d) => path.join(d, 'vulkan', 'icd.d'))])];
  const names = await Promise.all(dirs.map((d) => readdir(d).catch(() => [] as string[])));
  return [...new Set(names.flat().filter((n) => n.endsWith('.json')))].sort();
}

async function likelyDevice(drivers: readonly string[]): Promise<string | undefined> {
  const has = (pattern: RegExp) => drivers.some((d) => pattern.test(d));
  const vendors = await pciDisplayVendors();
  if (has(/nvidia/i) && (vendors.has('0x10de') || (await exists('/proc/driver/nvidia/gpus')))) {
    const [name] = await nvidiaGpuNames();
    return `${name ?? 'NVIDIA GPU'} (NVIDIA Vulkan driver)`;
  }
  if (has(/^radeon/) && vendors.has('0x1002')) return 'AMD GPU (Mesa RADV)';
  if (has(/^intel_icd/) && vendors.has('0x8086')) return 'Intel GPU (Mesa ANV)';
  if (has(/^lvp/)) return "lavapipe (Mesa's Vulkan on the CPU)";
  return undefined;
}

/** PCI vendor ids of the display devices under /sys/class/drm. */
async function pciDisplayVendors(): Promise<Set<string>> {
  const cards = (await readdir('/sys/class/drm').catch(() => [] as string[])).filter((c) => /^card\d+$/.test(c));
  const ids = await Promise.all(
    cards.map((c) =>
      readFile(path.join('/sys/class/drm', c, 'device', 'vendor'), 'utf8').then(
        (v) => v.trim(),
        () => '',
      ),
    ),
  );
  return new Set(ids.filter((v) => v !== ''));
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
