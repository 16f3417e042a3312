import { quant, RuleViolationError } from 'quantsim';
import { describe, expect, it } from 'vitest';
import { buildDetectorHead } from '../detector-head/detector-head-model.js';
import { npuPlugin } from './npu-rule.js';

describe('a custom rule', () => {
  it('fires on 16-bit Conv weights and 12-bit activations, listing both, and passes a valid plan', async () => {
    const err = await quant(buildDetectorHead())
      .use(npuPlugin)
      .layers(/conv1/)
      .params(16)
      .layers(/fc6/)
      .activations(12)
      .plan()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuleViolationError);
    const msg = (err as Error).message;
    expect(msg).toMatch(
      /\[npu-kernels\] backbone\.conv1 has 16-bit weights \(set by \.layers\(\/conv1\/\)\.params\(16\)\); the NPU's convolutions take 8-bit weights only\./,
    );
    expect(msg).toMatch(/\[npu-kernels\] fc6\.relu_out is quantized to 12 bits/);
    await expect(quant(buildDetectorHead()).use(npuPlugin).layers(/fc/).params(16).activations(16).plan()).resolves.toBeDefined();
  });
});
