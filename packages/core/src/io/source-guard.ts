import path from 'node:path';
import { ModelSaveError } from '../errors/model-errors.js';
import { type FileIdentity, matchingSource } from './file-identity.js';
import { samePath } from './same-path.js';

/**
 * Refuses to write any of `dests` over a file the model was read from: the same path, the same
 * device and inode (hard links, renames), or, for a model passed as bytes, a file with the same
 * content.
 * @throws ModelSaveError naming the destination, the source and the fix.
 */
export function assertNotSource(
  dests: readonly string[],
  source: {
    readonly path: string | undefined;
    readonly files: readonly FileIdentity[] | undefined;
    /** Who writes, for the message. */
    readonly action: 'save' | 'export';
  },
  fix: string,
): void {
  for (const dest of dests) {
    if (source.path && samePath(dest, source.path))
      throw new ModelSaveError(
        dest,
        source.action === 'export'
          ? `export() would overwrite the source model ${path.resolve(source.path)}`
          : 'this is the file the model was loaded from, and quantsim never overwrites a source model',
        { hint: fix },
      );
    const match = matchingSource(dest, source.files ?? []);
    if (match) {
      const how = match.dev !== undefined ? 'is the same file (device and inode) as' : 'holds the same bytes as';
      const what = match.path ? path.resolve(match.path) : 'the bytes it was loaded from';
      throw new ModelSaveError(dest, `this file ${how} the model's source, so this would overwrite the source model ${what}`, {
        hint: fix,
      });
    }
  }
}
