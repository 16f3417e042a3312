import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../../examples/detector-head/detector-head-model.js';
import { loadModel, ModelSaveError, quant, saveModel } from '../../src/index.js';

const CHILD = fileURLToPath(new URL('./io-child.ts', import.meta.url));
const data = detectorImages(2);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'quantsim-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs one load or save in a child, killed after 30 s so that a hang fails instead of hanging. */
function inChild(op: 'load' | 'save', target: string): { name?: string; code?: string; message?: string; ok?: boolean } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@quantsim/source', CHILD, op, target], {
    timeout: 30_000,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
  });
  if (r.signal) throw new Error(`${op} ${target} hung: the child was killed after 30 s`);
  return JSON.parse(r.stdout || '{}');
}

const hasMkfifo = process.platform !== 'win32' && spawnSync('mkfifo', ['--version']).status === 0;

describe('no hang on special files', () => {
  it.skipIf(!hasMkfifo)('refuses external data that is a FIFO inside the model folder', async () => {
    const folder = path.join(dir, 'fifo-data');
    await mkdir(folder);
    const file = path.join(folder, 'head.onnx');
    await saveModel(buildDetectorHead(), file, { externalData: 'always', sizeThreshold: 0 });
    await rm(`${file}.data`);
    execFileSync('mkfifo', [`${file}.data`]);
    const r = inChild('load', file);
    expect(r.name).toBe('ExternalDataError');
    expect(r.message).toMatch(
      /head\.onnx\.data', which it is a named pipe \(FIFO\), not a regular file\. External data must be a regular file/,
    );
  });

  it.skipIf(!hasMkfifo)('refuses a model path that is a FIFO', async () => {
    const fifo = path.join(dir, 'pipe.onnx');
    execFileSync('mkfifo', [fifo]);
    const r = inChild('load', fifo);
    expect(r.name).toBe('ModelLoadError');
    expect(r.message).toMatch(/pipe\.onnx: it is a named pipe \(FIFO\), not a regular file\. Pass the path of an \.onnx file/);
  });

  it.skipIf(process.platform !== 'linux' || !existsSync('/proc/self'))('refuses to write under /proc instead of spinning', () => {
    const r = inChild('save', '/proc/quantsim-test/deeper/model.onnx');
    expect(r.name).toBe('ModelSaveError');
    expect(r.message).toMatch(
      /Cannot save ONNX model to \/proc\/quantsim-test\/deeper\/model\.onnx: \/proc is on procfs, a kernel pseudo file system.*Choose a folder on a disk/,
    );
  });
});

describe('write errors name the user path and the fix', () => {
  it('a path through a file (ENOTDIR) is a ModelSaveError naming it', async () => {
    const blocker = path.join(dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    const sim = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const err = await sim.export(path.join(blocker, 'sub', 'head'), { formats: ['plan'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelSaveError);
    expect((err as Error).message).toMatch(
      /a-file\/sub\/head: .*a-file is a file, not a folder\. Choose a path whose folders are folders/,
    );
    await sim.release();
  });

  it.skipIf(process.getuid?.() === 0)(
    'a read-only folder (EACCES) is a ModelSaveError naming the user path, not a temporary file',
    async () => {
      const folder = path.join(dir, 'read-only');
      await mkdir(folder, { mode: 0o555 });
      const err = await saveModel(buildDetectorHead(), path.join(folder, 'm.onnx')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelSaveError);
      expect((err as Error).message).toMatch(
        /m\.onnx: permission denied when writing in .*read-only\. Choose a folder you can write to/,
      );
      expect((err as Error).message).not.toMatch(/\.tmp|quantsim\//);
    },
  );
  if (process.getuid?.() === 0)
    console.log('file-safety: EACCES test skipped: running as root, which may write in read-only folders');
});

describe('the source model is protected by identity', () => {
  it('a model loaded from bytes cannot be exported or saved over its own file', async () => {
    const file = path.join(dir, 'src', 'head.onnx');
    await saveModel(buildDetectorHead(), file);
    const before = await readFile(file);
    const sim = await quant(new Uint8Array(before)).scheme('minmax').calibrate(data);
    const err = await sim.export(path.join(dir, 'src', 'head')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelSaveError);
    expect((err as Error).message).toMatch(
      /head\.onnx: this file holds the same bytes as the model's source, so this would overwrite the source model the bytes it was loaded from\. Choose another prefix/,
    );
    const model = await loadModel(new Uint8Array(before));
    await expect(saveModel(model, file)).rejects.toThrow(/holds the same bytes as the model's source/);
    expect(await readFile(file)).toEqual(before);
    await saveModel(model, file, { overwrite: true });
    await sim.release();
  });

  it('a hard link to the source is the source (same device and inode)', async () => {
    const file = path.join(dir, 'src', 'linked.onnx');
    await writeFile(file, buildDetectorHead(3).toBytes());
    const alias = path.join(dir, 'src', 'alias.onnx');
    await link(file, alias);
    const model = await loadModel(file);
    await expect(saveModel(model, alias)).rejects.toThrow(
      /alias\.onnx: this file is the same file \(device and inode\) as the model's source/,
    );
  });
});
