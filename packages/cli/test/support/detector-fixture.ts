import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { saveModel } from '@quantsim/core';
import { encodeNpy } from '@quantsim/data';
import { buildDetectorHead, detectorImages } from '../../../../examples/detector-head/detector-head-model.js';
import type { CliIO } from '../../src/program.js';

/** The detector head example saved to a temporary folder, with `.npy` calibration data beside it. */
export interface DetectorFixture {
  readonly dir: string;
  readonly model: string;
  /** One `.npy` of shape [12, 3, 32, 32]: 12 samples along the batch axis. */
  readonly calibFile: string;
  /** A folder of 6 `.npy` files, one [1, 3, 32, 32] sample each. */
  readonly calibDir: string;
}

/** Writes the fixture; each call makes a new temporary folder. */
export async function detectorFixture(): Promise<DetectorFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'quantsim-cli-'));
  const model = path.join(dir, 'detector-head.onnx');
  await saveModel(buildDetectorHead(), model);
  const images = detectorImages(12);
  const all = new Float32Array(12 * 3 * 32 * 32);
  for (const [i, img] of images.entries()) all.set(img.image.data, i * 3 * 32 * 32);
  const calibFile = path.join(dir, 'calib.npy');
  writeFileSync(calibFile, encodeNpy(all, [12, 3, 32, 32]));
  const calibDir = path.join(dir, 'calib');
  mkdirSync(calibDir);
  for (const [i, img] of images.slice(0, 6).entries())
    writeFileSync(path.join(calibDir, `${i}.npy`), encodeNpy(img.image.data, [1, 3, 32, 32]));
  return { dir, model, calibFile, calibDir };
}

/** Runs the CLI in-process and captures what it prints. */
export interface CapturedRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `quantsim <argv>` in-process with captured output (progress as plain lines on err). */
export async function runQuantsim(argv: readonly string[]): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const { runCli } = await import('../../src/program.js');
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
