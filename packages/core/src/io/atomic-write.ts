import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** One file to write: its destination and its contents. */
export interface FileToWrite {
  readonly path: string;
  readonly data: Uint8Array | string;
}

/**
 * Writes several files so that either all of them are replaced or none is: every file is first
 * written to a temporary name beside its destination, and only when all writes succeeded are they
 * renamed into place (a rename within a folder is atomic). A failure removes the temporary files
 * and leaves the previous files untouched.
 */
export async function writeFilesAtomically(files: readonly FileToWrite[]): Promise<void> {
  const staged: { tmp: string; dest: string }[] = [];
  try {
    for (const file of files) {
      const dest = path.resolve(file.path);
      await mkdir(path.dirname(dest), { recursive: true });
      const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.tmp`);
      staged.push({ tmp, dest });
      await writeFile(tmp, file.data);
    }
  } catch (e) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw e;
  }
  for (const s of staged) await rename(s.tmp, s.dest);
}

/** {@link writeFilesAtomically} for one file. */
export async function writeFileAtomically(file: string, data: Uint8Array | string): Promise<void> {
  await writeFilesAtomically([{ path: file, data }]);
}
