import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One file to write: its destination and its contents. */
export interface FileToWrite {
  readonly path: string;
  readonly data: Uint8Array | string;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/**
 * Writes several files so that either all of them are replaced or none is. Every file is first
 * written to a temporary name beside its destination. Then each existing destination is moved
 * aside and the new file renamed into place (renames within a folder are atomic). If any step
 * fails, the new files are removed and the moved-aside ones put back, so a previous set of files
 * survives a failure intact.
 */
export async function writeFilesAtomically(files: readonly FileToWrite[]): Promise<void> {
  const tag = randomBytes(6).toString('hex');
  const staged: { tmp: string; dest: string; backup: string }[] = [];
  try {
    for (const file of files) {
      const dest = path.resolve(file.path);
      await mkdir(path.dirname(dest), { recursive: true });
      const base = path.join(path.dirname(dest), `.${path.basename(dest)}.${tag}`);
      staged.push({ tmp: `${base}.tmp`, dest, backup: `${base}.bak` });
      await writeFile(`${base}.tmp`, file.data);
    }
  } catch (e) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw e;
  }
  const done: { dest: string; backup: string | undefined }[] = [];
  try {
    for (const s of staged) {
      const hadFile = await exists(s.dest);
      if (hadFile) await rename(s.dest, s.backup);
      done.push({ dest: s.dest, backup: hadFile ? s.backup : undefined });
      await rename(s.tmp, s.dest);
    }
  } catch (e) {
    // Put every earlier file back as it was, newest first.
    for (const d of done.reverse()) {
      if (d.backup) await rename(d.backup, d.dest).catch(() => undefined);
      else await rm(d.dest, { force: true }).catch(() => undefined);
    }
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw e;
  }
  await Promise.all(done.map((d) => (d.backup ? rm(d.backup, { force: true }) : undefined)));
}

/** {@link writeFilesAtomically} for one file. */
export async function writeFileAtomically(file: string, data: Uint8Array | string): Promise<void> {
  await writeFilesAtomically([{ path: file, data }]);
}
