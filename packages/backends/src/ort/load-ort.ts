import type * as Ort from 'onnxruntime-node';

/** The `onnxruntime-node` module, as `import * as ort from 'onnxruntime-node'` gives it. */
export type OrtNode = typeof Ort;

let loading: Promise<OrtNode> | undefined;

/**
 * Loads `onnxruntime-node` on first use, so that importing a backend does not load ONNX
 * Runtime's native library (and a broken install shows up in a probe, not as an import error).
 */
export function loadOrtNode(): Promise<OrtNode> {
  loading ??= import('onnxruntime-node');
  return loading;
}
