import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Where `onnxruntime-node` is installed (the folder holding its `package.json`). */
export function ortNodePackageDir(): string {
  return path.dirname(require.resolve('onnxruntime-node/package.json'));
}

/**
 * The folder that holds ONNX Runtime's native libraries for this platform, where optional
 * execution providers (`libonnxruntime_providers_cuda.so`) must be too.
 */
export function ortNodeBinFolder(platform: string = process.platform, arch: string = process.arch): string {
  return path.join(ortNodePackageDir(), 'bin', 'napi-v6', platform, arch);
}

/** The installed `onnxruntime-node` version, for messages. */
export function ortNodeVersion(): string {
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}
