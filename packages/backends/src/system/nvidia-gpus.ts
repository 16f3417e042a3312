import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The names of the NVIDIA GPUs this machine shows (`NVIDIA H100 80GB HBM3`), in `nvidia-smi`'s
 * order, or from `/proc/driver/nvidia/gpus` when `nvidia-smi` is absent. Empty when none is
 * visible. Never throws.
 */
export async function nvidiaGpuNames(): Promise<string[]> {
  const fromSmi = await new Promise<string[]>((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 10_000 }, (error, stdout) => {
      resolve(
        error
          ? []
          : stdout
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => l !== ''),
      );
    });
  });
  if (fromSmi.length > 0) return fromSmi;
  const root = '/proc/driver/nvidia/gpus';
  try {
    const names: string[] = [];
    for (const bus of (await readdir(root)).sort()) {
      const info = await readFile(path.join(root, bus, 'information'), 'utf8').catch(() => '');
      const model = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim();
      if (model) names.push(model);
    }
    return names;
  } catch {
    return [];
  }
}
