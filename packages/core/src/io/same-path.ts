import { realpathSync } from 'node:fs';
import path from 'node:path';

/** Whether two paths name the same file, following symbolic links where the files exist. */
export function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}
