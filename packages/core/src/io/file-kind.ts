import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { NotRegularFileError } from '../errors/not-regular-file-error.js';

export { NotRegularFileError } from '../errors/not-regular-file-error.js';

/**
 * File systems whose files are made up by the kernel (procfs, sysfs, debugfs…): reading one can
 * block forever and creating folders in one loops, so quantsim neither reads nor writes there.
 * Values are the `f_type` magic numbers of statfs(2).
 */
const PSEUDO_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroupfs'],
  [0x63677270, 'cgroup2fs'],
  [0xcafe4a11, 'bpffs'],
  [0x6165676c, 'pstorefs'],
  [0xde5e81e4, 'efivarfs'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0x1cd1, 'devpts'],
  [0x19800202, 'mqueue'],
  [0x42494e4d, 'binfmt_misc'],
]);

/** The pseudo file system (`procfs`, `sysfs`…) that holds an existing path, or `undefined`. */
export function pseudoFileSystem(existing: string): string | undefined {
  try {
    return PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(existing).type));
  } catch {
    // statfs is missing on some platforms (and on Windows there are no such file systems).
    return undefined;
  }
}

/** What a path is, in words, when it is not a regular file. */
export function describeKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Reads a whole file, refusing anything that is not a regular file (named pipes, devices,
 * sockets, folders) or that lives on a pseudo file system. The file is opened without blocking
 * and checked on the open descriptor, so a pipe put in its place cannot hang the read.
 * @throws NotRegularFileError for those; the fs error (ENOENT, EACCES…) otherwise.
 */
export function readRegularFileSync(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new NotRegularFileError(`it is ${describeKind(st)}, not a regular file`, st.isDirectory() ? 'EISDIR' : 'ENOTREG');
    const fs = pseudoFileSystem(file);
    if (fs) throw new NotRegularFileError(`it lives on ${fs}, a kernel pseudo file system`, 'EPSEUDOFS');
    const out = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, out, done, st.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === st.size ? out : out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** The nearest folder of `target` (or `target` itself) that exists, with its stats. */
export function nearestExisting(target: string): { path: string; stats: Stats } | undefined {
  let current = path.resolve(target);
  for (;;) {
    try {
      return { path: current, stats: statSync(current) };
    } catch (e) {
      // ENOTDIR: a part of the path is a file; the walk up finds it and says so.
      const code = (e as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}
