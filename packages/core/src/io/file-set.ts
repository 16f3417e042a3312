import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  copyFile,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { ModelSaveError } from '../errors/model-errors.js';
import { type FileToWrite, writeFilesAtomically } from './atomic-write.js';
import { checkWritableFolder, saveError } from './save-error.js';

/**
 * A set of files written together (an export, a model and its `.data`) is kept in one hidden
 * folder beside them, `.<base>.quantsim/`, holding one folder per version and a `current` link
 * to the live one. Each visible file is a relative link `<name> → .<base>.quantsim/current/<name>`.
 * Writing a new set builds a new version folder (each file fsynced), then switches `current` with
 * one rename: a crash at any point leaves every visible file old, or every one new.
 */
const CURRENT = 'current';
const LOCK = 'lock';

/** The hidden folder that holds the versions of the set named `base` in `dir`. */
export function fileSetFolder(dir: string, base: string): string {
  return path.join(dir, `.${base}.quantsim`);
}

/** Options of {@link writeFileSet}. */
export interface WriteFileSetOptions {
  /** The path the user gave, for messages (a prefix or a file). */
  readonly userPath: string;
  /** The name every file of the set starts with (an export prefix's last part, a model's file name). */
  readonly base: string;
}

/**
 * Writes files that must change together (all in one folder, all named `<base>…`): after a crash
 * at any moment the visible files are all the previous set or all the new one. Files of the
 * previous set that are not rewritten now are kept. Leftovers of an interrupted write (old
 * versions, temporary links, `.tmp`/`.bak` files of older quantsim versions) are removed.
 *
 * Where symbolic links cannot be made (Windows without the privilege), it falls back to
 * replacing each file atomically on its own.
 * @throws ModelSaveError naming `userPath` and the fix, for every file-system failure.
 */
export async function writeFileSet(files: readonly FileToWrite[], options: WriteFileSetOptions): Promise<void> {
  const userPath = options.userPath;
  if (files.length === 0) return;
  const dests = files.map((f) => path.resolve(f.path));
  const dir = path.dirname(dests[0] as string);
  if (dests.some((d) => path.dirname(d) !== dir))
    throw new ModelSaveError(userPath, 'the files of one set must share a folder', { hint: 'This is a bug in quantsim.' });
  const base = options.base;
  if (dests.some((d) => !path.basename(d).startsWith(base)))
    throw new ModelSaveError(userPath, `every file of the set must start with '${base}'`, { hint: 'This is a bug in quantsim.' });
  checkWritableFolder(dir, userPath);
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw saveError(userPath, e);
  }
  const root = fileSetFolder(dir, base);
  const tag = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(root, { recursive: true });
    if (!(await canLink(root, tag))) {
      await rm(root, { recursive: true, force: true });
      await writeFilesAtomically(files);
      return;
    }
    await takeLock(root, userPath);
  } catch (e) {
    throw saveError(userPath, e);
  }
  try {
    await removeLeftovers(dir, base, root);
    const names = dests.map((d) => path.basename(d));
    await adoptPlainFiles(dir, base, root, names, tag);
    const version = `v-${tag}`;
    const versionDir = path.join(root, version);
    await mkdir(versionDir);
    for (const [i, file] of files.entries()) await writeDurably(path.join(versionDir, names[i] as string), file.data);
    // Files of the live set that this write does not replace stay as they are.
    const live = await liveVersion(root);
    if (live)
      for (const name of await readdir(path.join(root, live)))
        if (!names.includes(name)) await linkOrCopy(path.join(root, live, name), path.join(versionDir, name));
    await syncFolder(versionDir);
    for (const name of names) await ensureLink(dir, base, name, tag);
    await syncFolder(dir);
    await switchLink(path.join(root, CURRENT), version, `${CURRENT}.${tag}.tmp`);
    await syncFolder(root);
    await removeLeftovers(dir, base, root);
  } catch (e) {
    throw saveError(userPath, e);
  } finally {
    await rm(path.join(root, LOCK), { force: true }).catch(() => undefined);
  }
}

async function canLink(root: string, tag: string): Promise<boolean> {
  const probe = path.join(root, `probe.${tag}.tmp`);
  try {
    await symlink('probe', probe);
    await rm(probe, { force: true });
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return false;
    throw e;
  }
}

/** One writer per set at a time; a lock left by a process that died is taken over. */
async function takeLock(root: string, userPath: string): Promise<void> {
  const file = path.join(root, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    const pid = Number(await readFile(file, 'utf8').catch(() => ''));
    if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid))
      throw new ModelSaveError(userPath, `another export to the same files is in progress (process ${pid})`, {
        hint: 'Wait for it to finish, or export to another path.',
      });
    await rm(file, { force: true });
  }
  throw new ModelSaveError(userPath, 'another export keeps taking the lock', { hint: 'Export to another path.' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

async function liveVersion(root: string): Promise<string | undefined> {
  try {
    const target = await readlink(path.join(root, CURRENT));
    return /^v-[\w-]+$/.test(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** Removes everything in the set's folder but the lock, `current` and its version; and old `.tmp`/`.bak` files. */
async function removeLeftovers(dir: string, base: string, root: string): Promise<void> {
  const live = await liveVersion(root);
  for (const entry of await readdir(root))
    if (entry !== LOCK && entry !== CURRENT && entry !== live) await rm(path.join(root, entry), { recursive: true, force: true });
  // `.tmp`/`.bak` files of the writer of earlier quantsim versions, and our own temporary links.
  const legacy = new RegExp(`^\\.${escapeRegExp(base)}(\\..+)?\\.([0-9a-f]{12}\\.(tmp|bak)|[0-9a-z]+-[0-9a-f]{8}\\.link)$`);
  for (const entry of await readdir(dir)) if (legacy.test(entry)) await rm(path.join(dir, entry), { force: true });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The target a visible file's link must have. */
function linkTarget(base: string, name: string): string {
  return path.join(`.${base}.quantsim`, CURRENT, name);
}

/**
 * Visible files that are not yet links into the set (plain files from an older quantsim or from
 * the user) are first copied (hard-linked) into a version of their own, so that turning them into
 * links changes nothing anyone can read.
 */
async function adoptPlainFiles(dir: string, base: string, root: string, names: readonly string[], tag: string): Promise<void> {
  const plain: string[] = [];
  for (const name of names) {
    const st = await lstat(path.join(dir, name)).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink() && (await readlink(path.join(dir, name))) === linkTarget(base, name)) continue;
    plain.push(name);
  }
  if (plain.length === 0) return;
  const live = await liveVersion(root);
  const version = `v-${tag}-adopted`;
  const versionDir = path.join(root, version);
  await mkdir(versionDir);
  if (live)
    for (const name of await readdir(path.join(root, live)))
      await linkOrCopy(path.join(root, live, name), path.join(versionDir, name));
  for (const name of plain) {
    const real = await realpath(path.join(dir, name)).catch(() => undefined);
    await rm(path.join(versionDir, name), { force: true });
    if (real) await linkOrCopy(real, path.join(versionDir, name));
  }
  await syncFolder(versionDir);
  await switchLink(path.join(root, CURRENT), version, `${CURRENT}.${tag}.adopt.tmp`);
  await syncFolder(root);
  for (const name of plain) await ensureLink(dir, base, name, tag);
  await syncFolder(dir);
}

async function ensureLink(dir: string, base: string, name: string, tag: string): Promise<void> {
  const dest = path.join(dir, name);
  const target = linkTarget(base, name);
  const current = await readlink(dest).catch(() => undefined);
  if (current === target) return;
  const tmp = path.join(dir, `.${name}.${tag}.link`);
  await symlink(target, tmp);
  await rename(tmp, dest);
}

async function switchLink(linkPath: string, target: string, tmpName: string): Promise<void> {
  const tmp = path.join(path.dirname(linkPath), tmpName);
  await rm(tmp, { force: true });
  await symlink(target, tmp);
  await rename(tmp, linkPath);
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to, constants.COPYFILE_EXCL);
    await syncFile(to);
  }
}

async function writeDurably(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a folder makes renames in it durable; some platforms cannot open folders, which is fine. */
async function syncFolder(folder: string): Promise<void> {
  try {
    await syncFile(folder);
  } catch {
    // Windows and some network file systems refuse fsync on folders.
  }
}
