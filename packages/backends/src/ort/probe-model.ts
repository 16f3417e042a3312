import { ModelBuilder } from '@quantsim/core';

let bytes: Uint8Array | undefined;

/**
 * A one-node model (`y = x + x`, float32) that probes create a session over: it is enough to
 * make ONNX Runtime load an execution provider and acquire its device.
 */
export function probeModel(): Uint8Array {
  if (!bytes) {
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [1, 4]);
    b.output(b.node('Add', [x, x], { outputs: ['y'] }), 'float32', [1, 4]);
    bytes = b.build('<probe>').toBytes();
  }
  return bytes;
}
