import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { detectorImages } from '../../../../examples/detector-head/detector-head-model.js';
import { encodeNpy } from '../../src/npy/npy-format.js';

/** `.npy` calibration data for the detector head example, in a temporary folder. */
export interface NpyFixture {
  readonly dir: string;
  /** One `.npy` of shape [12, 3, 32, 32]: 12 samples along the batch axis. */
  readonly calibFile: string;
  /** A folder of 6 `.npy` files, one [1, 3, 32, 32] sample each: the first 6 images of `calibFile`. */
  readonly calibDir: string;
}

/** Writes the fixture; each call makes a new temporary folder. */
export function npyFixture(): NpyFixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'quantsim-data-'));
  const images = detectorImages(12);
  const all = new Float32Array(12 * 3 * 32 * 32);
  for (const [i, img] of images.entries()) all.set(img.image.data, i * 3 * 32 * 32);
  const calibFile = path.join(dir, 'calib.npy');
  writeFileSync(calibFile, encodeNpy(all, [12, 3, 32, 32]));
  const calibDir = path.join(dir, 'calib');
  mkdirSync(calibDir);
  for (const [i, img] of images.slice(0, 6).entries())
    writeFileSync(path.join(calibDir, `${i}.npy`), encodeNpy(img.image.data, [1, 3, 32, 32]));
  return { dir, calibFile, calibDir };
}
