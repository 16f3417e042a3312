import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { readRegularFileSync } from './file-kind.js';

/**
 * What identifies a file a model was read from: its device and inode (when it came from a path)
 * and the size and SHA-256 of its bytes (always), so that a destination can be recognised as the
 * source however the model was passed, also through links or renames.
 */
export interface FileIdentity {
  readonly dev?: number;
  readonly ino?: number;
  readonly size: number;
  readonly sha256: string;
  /** The path it was read from, when known (for messages). */
  readonly path?: string;
}

/** SHA-256 of bytes, in hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The identity of bytes read from `file` (device and inode from a fresh stat). */
export function identityOf(bytes: Uint8Array, file?: string): FileIdentity {
  const base = { size: bytes.byteLength, sha256: sha256(bytes) };
  if (file === undefined) return base;
  try {
    const st = statSync(file);
    return { ...base, dev: st.dev, ino: st.ino, path: file };
  } catch {
    return { ...base, path: file };
  }
}

/**
 * The source file that `dest` is, if any: the same device and inode, or (for an existing file of
 * the same size) the same content.
 */
export function matchingSource(dest: string, sources: readonly FileIdentity[]): FileIdentity | undefined {
  if (sources.length === 0) return undefined;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dest);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  const byInode = sources.find((s) => s.dev !== undefined && s.dev === st.dev && s.ino === st.ino);
  if (byInode) return byInode;
  const sameSize = sources.filter((s) => s.size === st.size);
  if (sameSize.length === 0) return undefined;
  let hash: string;
  try {
    hash = sha256(readRegularFileSync(dest));
  } catch {
    return undefined;
  }
  return sameSize.find((s) => s.sha256 === hash);
}
