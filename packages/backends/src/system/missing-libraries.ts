import { execFile } from 'node:child_process';

/**
 * The shared libraries a native library needs that the dynamic loader cannot find, from
 * `ldd` (Linux only): for the CUDA provider, `libcudnn.so.9` when cuDNN is missing, for
 * example. ONNX Runtime's own libraries, which sit beside it, are left out. `undefined` when
 * `ldd` cannot tell. Never throws.
 */
export function missingLibraries(file: string): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    execFile('ldd', [file], { timeout: 10_000 }, (error, stdout) => {
      if (error && stdout === '') return resolve(undefined);
      const missing = stdout
        .split('\n')
        .map((line) => /^\s*(\S+)\s*=>\s*not found/.exec(line)?.[1])
        .filter((lib): lib is string => lib !== undefined && !lib.startsWith('libonnxruntime'));
      resolve([...new Set(missing)]);
    });
  });
}
