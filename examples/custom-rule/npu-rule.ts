/**
 * A custom rule for a target: an NPU whose convolution kernels take 8-bit weights only, and whose
 * activations must be 8 or 16 bits. The rule runs when the plan is resolved, so an impossible
 * plan fails before any calibration time is spent.
 *
 * Run: `pnpm exec tsx --conditions=@quantsim/source examples/custom-rule/npu-rule.ts`
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { type Diagnostic, type Plugin, quant, type Rule } from 'quantsim';
import { buildDetectorHead } from '../detector-head/detector-head-model.js';

/** `npu-kernels`: Conv weights at 8 bits; activations at 8 or 16 bits. */
export const npuRule: Rule = {
  name: 'npu-kernels',
  phases: ['plan', 'export'],
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const q of ctx.plan.quantizers) {
      if (!q.enabled) continue;
      const op = q.layer ? ctx.model.graph.node(q.layer)?.opType : undefined;
      if (q.kind === 'param' && q.paramRole === 'weight' && op === 'Conv' && q.bitwidth !== 8)
        out.push({
          code: 'NPU_CONV_WEIGHTS',
          severity: 'error',
          quantizer: q.id,
          message: `${q.layer} has ${q.bitwidth}-bit weights (set by ${q.provenance.bitwidth}); the NPU's convolutions take 8-bit weights only.`,
          hint: `Use .layers('${q.layer}').params(8), or leave this layer in float with .disable().`,
        });
      if (q.kind !== 'param' && q.bitwidth !== 8 && q.bitwidth !== 16)
        out.push({
          code: 'NPU_ACTIVATION_BITS',
          severity: 'error',
          quantizer: q.id,
          message: `${q.tensor} is quantized to ${q.bitwidth} bits; the NPU moves activations at 8 or 16 bits.`,
          hint: 'Pick 8 or 16.',
        });
    }
    return out;
  },
};

/** The plugin that carries the rule. */
export const npuPlugin: Plugin = { name: 'my-npu', rules: [npuRule] };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await quant(buildDetectorHead()).use(npuPlugin).layers(/conv/).params(16).plan();
  } catch (e) {
    console.log((e as Error).message);
  }
}
