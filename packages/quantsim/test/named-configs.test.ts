import { describe, expect, it } from 'vitest';
import { buildDetectorHead } from '../../../examples/detector-head/detector-head-model.js';
import { quant, UnknownConfigError } from '../src/index.js';

describe('defaults', () => {
  it('quantize Conv and Gemm weights per channel on their output-channel axis, and say so in the table', async () => {
    const plan = await quant(buildDetectorHead()).plan();
    // Conv weights [M, C, k, k]: axis 0; Gemm with transB = 1, weights [N, K]: axis 0.
    expect(plan.get('param:backbone.conv2.weight')).toMatchObject({ perChannelAxis: 0, enabled: true });
    expect(plan.get('param:fc6.weight')).toMatchObject({ perChannelAxis: 0 });
    expect(plan.get('param:fc6.bias')?.perChannelAxis).toBeUndefined();
    expect(plan.toTable()).toMatch(/fc6\s+param\s+fc6\.weight\s+8\s+sym\s+tf-enhanced\s+axis 0\s+defaults/);
  });

  it('go per-tensor with perChannel: false, as AIMET’s default config is', async () => {
    const plan = await quant(buildDetectorHead()).defaults({ perChannel: false }).plan();
    expect(plan.get('param:fc6.weight')?.perChannelAxis).toBeUndefined();
    expect(plan.toTable()).toMatch(/fc6\.weight\s+8\s+sym\s+tf-enhanced\s+per-tensor/);
  });
});

describe('.config(name)', () => {
  it("'aimet-default' is AIMET's per-tensor default config, recorded as the config that set it", async () => {
    const plan = await quant(buildDetectorHead()).config('aimet-default').plan();
    const w = plan.get('param:fc6.weight');
    expect(w).toMatchObject({ perChannelAxis: undefined, symmetric: true, enabled: true });
    expect(w?.provenance.perChannelAxis).toBe('config aimet-default');
    expect(plan.get('param:fc6.bias')?.enabled).toBe(false);
    expect(plan.toTable()).toMatch(/fc6\.weight\s+8\s+sym\*?\s+tf-enhanced\s+per-tensor\*/);
  });

  it("'aimet-per-channel' keeps Gemm per-tensor and Conv per-channel, as AIMET's per-channel config does", async () => {
    const plan = await quant(buildDetectorHead()).config('aimet-per-channel').plan();
    expect(plan.get('param:backbone.conv2.weight')?.perChannelAxis).toBe(0);
    expect(plan.get('param:fc6.weight')?.perChannelAxis).toBeUndefined();
  });

  it("'htp' has per-channel weights and 8-bit kernels first; 'ort' quantizes only around the ops ONNX Runtime handles", async () => {
    const htp = await quant(buildDetectorHead()).config('htp').plan();
    expect(htp.get('param:fc6.weight')).toMatchObject({ perChannelAxis: 0, bitwidth: 8 });
    expect(htp.enabled.filter((q) => q.kind === 'activation').every((q) => q.bitwidth === 8)).toBe(true);
    const ort = await quant(buildDetectorHead()).config('ort').plan();
    expect(ort.get('param:fc6.weight')).toMatchObject({ perChannelAxis: 0, symmetric: true });
    // Inputs of quantized ops get quantizers; the graph input itself is not quantized twice.
    expect(ort.quantizers.some((q) => q.kind === 'input' && q.enabled)).toBe(true);
  });

  it('lists the known names for an unknown one', () => {
    const b = quant(buildDetectorHead());
    expect(() => b.config('aimet-defualt')).toThrow(UnknownConfigError);
    expect(() => b.config('aimet-defualt')).toThrow(
      /no config of that name.*Known configs: 'aimet-default', 'aimet-per-channel', 'htp', 'ort'/,
    );
  });

  it('takes configs that a plugin contributes, later plugins replacing earlier ones of the same name', async () => {
    const plan = await quant(buildDetectorHead())
      .use({
        name: 'my-target',
        configs: [
          {
            name: 'w4',
            description: '4-bit weights',
            config: {
              defaults: { ops: {}, params: {}, supported_kernels: [{ activation: { bitwidth: 8 }, param: { bitwidth: 4 } }] },
            },
          },
        ],
      })
      .config('w4')
      .plan();
    expect(plan.get('param:fc6.weight')).toMatchObject({ bitwidth: 4 });
    expect(plan.get('param:fc6.weight')?.provenance.bitwidth).toBe('config w4');
  });
});
