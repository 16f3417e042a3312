import path from 'node:path';
import { ModelSaveError } from '../errors/model-errors.js';
import { QuantsimError } from '../errors/quantsim-error.js';
import { nearestExisting, pseudoFileSystem } from './file-kind.js';

/**
 * Checks, before anything is created, that files can be written in `folder`: the part of the
 * path that exists must be a folder, on a real file system (not /proc, /sys…).
 * @throws ModelSaveError naming `userPath` and the fix.
 */
export function checkWritableFolder(folder: string, userPath: string): void {
  let existing: ReturnType<typeof nearestExisting>;
  try {
    existing = nearestExisting(folder);
  } catch (e) {
    throw saveError(userPath, e);
  }
  if (!existing) return;
  if (!existing.stats.isDirectory())
    throw new ModelSaveError(userPath, `${existing.path} is a file, not a folder`, {
      hint: 'Choose a path whose folders are folders, or move that file away.',
    });
  const fs = pseudoFileSystem(existing.path);
  if (fs)
    throw new ModelSaveError(userPath, `${existing.path} is on ${fs}, a kernel pseudo file system that cannot hold files`, {
      hint: 'Choose a folder on a disk, for example under your home folder or the project.',
    });
}

/**
 * Turns an fs error met while writing into a {@link ModelSaveError} that names the user's path
 * (never a temporary file) and says what to do. quantsim's own errors pass through.
 */
export function saveError(userPath: string, e: unknown): QuantsimError {
  if (e instanceof QuantsimError) return e;
  const code = (e as { code?: string } | undefined)?.code;
  const folder = path.dirname(path.resolve(userPath));
  const known: Record<string, [string, string]> = {
    EACCES: [`permission denied when writing in ${folder}`, 'Choose a folder you can write to, or change its permissions.'],
    EPERM: [`the operation is not permitted in ${folder}`, 'Choose a folder you can write to, or change its permissions.'],
    ENOTDIR: [`a part of the path ${folder} is a file, not a folder`, 'Choose another path, or move that file away.'],
    EISDIR: [`${path.resolve(userPath)} is a folder`, 'Give a file path (or an export prefix), not a folder.'],
    ENOSPC: ['the disk is full', 'Free some space, or choose a folder on another disk.'],
    EDQUOT: ['the disk quota is exceeded', 'Free some space, or choose a folder on another disk.'],
    EROFS: [`${folder} is on a read-only file system`, 'Choose a writable folder.'],
    ENAMETOOLONG: ['the path is too long', 'Choose a shorter path.'],
    EMFILE: ['too many files are open', 'Close files or raise the limit (ulimit -n), then retry.'],
    ELOOP: ['the path has a loop of symbolic links', 'Fix the links, or choose another path.'],
  };
  const [reason, hint] = (code && known[code]) || [
    `the file system refused the write (${code ?? (e as Error)?.message ?? String(e)})`,
    'Check the path and its folder.',
  ];
  return new ModelSaveError(userPath, reason, { hint, cause: e });
}
