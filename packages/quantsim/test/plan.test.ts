import { describe, expect, it } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../examples/detector-head/detector-head-model.js';
import { REAL_MODELS } from '../../../test-support/models.js';
import { createQuant, loadModel, quant, RuleViolationError } from '../src/index.js';

describe('the mission line', () => {
  it('puts fc and bbox layers at 16/16 and everything else at 8/8', async () => {
    const plan = await quant(buildDetectorHead())
      .defaults({ activations: 8, params: 8, scheme: 'tf-enhanced' })
      .layers(/fc|bbox/)
      .activations(16)
      .params(16)
      .plan();
    const sixteen = new Set(['fc6', 'fc7', 'bbox_pred']);
    const enabled = plan.quantizers.filter((q) => q.enabled);
    for (const q of enabled) {
      const group = [q.layer, ...(q.supergroup ?? [])];
      const wanted = group.some((l) => l !== undefined && sixteen.has(l)) ? 16 : 8;
      expect(q.bitwidth, `${q.id} (${q.layer})`).toBe(wanted);
    }
    // Weights of fc6, fc7 and bbox_pred, and their outputs (fc6/fc7 through their Relu supergroups).
    const at16 = enabled.filter((q) => q.bitwidth === 16).map((q) => q.id);
    expect(at16.sort()).toEqual(
      [
        'activation:bbox_pred_out',
        'activation:fc6.relu_out',
        'activation:fc7.relu_out',
        'param:bbox_pred.weight',
        'param:fc6.weight',
        'param:fc7.weight',
      ].sort(),
    );
    expect(plan.get('param:fc6.weight')?.provenance.bitwidth).toBe('.layers(/fc|bbox/).params(16)');
    expect(plan.get('param:backbone.conv2.weight')?.provenance.bitwidth).toBe('defaults');
    // Biases are placed but not quantized, as in AIMET.
    expect(plan.get('param:fc6.bias')?.enabled).toBe(false);
    expect(plan.toTable()).toMatch(/fc6\s+param\s+fc6\.weight\s+16\*/);
  });

  it('folds the BatchNorm and leaves no quantizer inside Conv+Relu', async () => {
    const plan = await quant(buildDetectorHead()).plan();
    expect(plan.get('activation:backbone.conv1_out')).toBeUndefined();
    expect(plan.skipped.find((s) => s.tensor === 'backbone.bn1')?.reason).toBe('BatchNormalization folded into backbone.conv1');
    expect(plan.get('activation:backbone.relu1_out')?.supergroup).toEqual(['backbone.conv1', 'backbone.relu1']);
    expect(plan.skipped.find((s) => s.tensor === 'flatten_out')?.reason).toMatch(/keeps the encoding of its input \(Flatten/);
    const unfolded = await quant(buildDetectorHead()).foldBatchNorms(false).plan();
    expect(unfolded.get('activation:backbone.conv1_out')?.enabled).toBe(true);
  });
});

describe('PaddleOCR detector default plan', () => {
  it('quantizes all 62 Conv weights, found through Constant nodes, and no shape tensor', async () => {
    const model = await loadModel(REAL_MODELS.ocrDetector);
    const plan = await quant(model).plan();
    const convWeights = model
      .layers()
      .filter((l) => l.opType === 'Conv')
      .map((l) => l.params.find((p) => p.role === 'weight')?.tensor);
    expect(convWeights).toHaveLength(62);
    for (const w of convWeights) {
      const q = plan.get(`param:${w}`);
      expect(q?.enabled, String(w)).toBe(true);
      expect(q?.bitwidth).toBe(8);
      expect(q?.symmetric).toBe(true);
    }
    // Every quantizer sits on a float tensor of the simulated (BatchNorm-folded) model.
    const folded = (await quant(model).simulate()).floatModel.graph;
    for (const q of plan.quantizers) expect(folded.tensor(q.tensor)?.dtype, q.id).toBe('float32');
    // Enabled params: the 62 Conv and 2 ConvTranspose weights, and the scale of the one
    // BatchNormalization that follows no convolution (so it is not folded).
    const enabledParams = plan.quantizers.filter((q) => q.kind === 'param' && q.enabled);
    const byOp = enabledParams.map((q) => `${model.graph.node(q.layer ?? '')?.opType}:${q.paramRole}`);
    expect(byOp.filter((k) => k === 'Conv:weight')).toHaveLength(62);
    expect(byOp.filter((k) => k === 'ConvTranspose:weight')).toHaveLength(2);
    expect(byOp.filter((k) => k !== 'Conv:weight' && k !== 'ConvTranspose:weight')).toEqual(['BatchNormalization:scale']);
  });

  it('skips the recognizer shape arithmetic', async () => {
    const model = await loadModel(REAL_MODELS.ocrRecognizer);
    const plan = await quant(model).plan();
    const shapeOutputs = model.graph.nodes.filter((n) => n.opType === 'Shape').map((n) => n.outputs[0] as string);
    for (const t of shapeOutputs) {
      expect(plan.quantizers.some((q) => q.tensor === t)).toBe(false);
      expect(plan.skipped.find((s) => s.tensor === t)?.reason).toMatch(/int64, not floating point|keeps the encoding/);
    }
  });
});

describe('immutability and forking', () => {
  it('leaves the base builder unchanged and forks independent', async () => {
    const base = quant(buildDetectorHead()).defaults({ activations: 8, params: 8 });
    const before = JSON.stringify(base.state);
    const a = base.layers(/fc/).activations(16);
    const b = base.ops('Softmax').activations(16);
    expect(JSON.stringify(base.state)).toBe(before);
    expect(Object.isFrozen(base.state)).toBe(true);
    expect(Object.isFrozen(a.state.overrides)).toBe(true);
    expect(a.state.overrides).toHaveLength(1);
    expect(b.state.overrides).toHaveLength(1);
    const [pa, pb, p0] = await Promise.all([a.plan(), b.plan(), base.plan()]);
    expect(pa.get('activation:fc6.relu_out')?.bitwidth).toBe(16);
    expect(pa.get('activation:cls_prob')?.bitwidth).toBe(8);
    expect(pb.get('activation:cls_prob')?.bitwidth).toBe(16);
    expect(pb.get('activation:fc6.relu_out')?.bitwidth).toBe(8);
    expect(p0.quantizers.every((q) => q.bitwidth === 8)).toBe(true);
  });

  it('.params(8) on a builder leaves it unchanged', () => {
    const b = quant(buildDetectorHead());
    const c = b.params(4);
    expect(b.state.overrides).toHaveLength(0);
    expect(c.state.overrides[0]?.fields).toEqual({ bitwidth: 4 });
  });

  it('applies later overrides over earlier ones and config between defaults and overrides', async () => {
    const plan = await quant(buildDetectorHead())
      .config({
        defaults: {
          ops: { is_output_quantized: 'True', is_symmetric: 'True' },
          params: { is_quantized: 'True', is_symmetric: 'False' },
        },
        op_type: { Softmax: { is_output_quantized: 'False' } },
      })
      .layers('fc6')
      .params(4)
      .layers(/fc/)
      .params(6)
      .plan();
    expect(plan.get('param:fc6.weight')?.bitwidth).toBe(6);
    expect(plan.get('param:fc6.weight')?.symmetric).toBe(false);
    expect(plan.get('param:fc6.weight')?.provenance.symmetric).toBe('config <object>');
    expect(plan.get('activation:cls_prob')?.enabled).toBe(false);
    expect(plan.get('activation:fc6.relu_out')?.symmetric).toBe(true);
  });
});

describe('input quantizers and config inputs', () => {
  it('.inputs() adds quantizers on the activation inputs of the selected layers, and the sim runs them', async () => {
    const b = quant(buildDetectorHead()).layers('fc7').inputs(16);
    const plan = await b.plan();
    const input = plan.get('input:fc7:0');
    expect(input).toMatchObject({
      kind: 'input',
      tensor: 'fc6.relu_out',
      layer: 'fc7',
      inputIndex: 0,
      bitwidth: 16,
      enabled: true,
    });
    expect(input?.provenance.bitwidth).toBe(".layers('fc7').inputs(16)");
    // The weight of fc7 is a param, not an input.
    expect(plan.get('input:fc7:1')).toBeUndefined();
    const sim = await b.scheme('minmax').calibrate(detectorImages(3));
    expect(sim.encodings.get('input:fc7:0')?.bitwidth).toBe(16);
    const out = await sim.run(detectorImages(1)[0] as never);
    expect(out.bbox_pred_out?.data.length).toBe(20);
    await sim.release();
  });

  it('a config file can quantize model inputs off and op inputs on', async () => {
    const plan = await quant(buildDetectorHead())
      .config({ model_input: { is_input_quantized: 'False' }, op_type: { Gemm: { is_input_quantized: 'True' } } })
      .plan();
    expect(plan.get('activation:image')?.enabled).toBe(false);
    expect(plan.get('input:fc6:0')?.enabled).toBe(true);
    expect(plan.get('input:bbox_pred:0')?.tensor).toBe('fc7.relu_out');
  });
});

describe('rules', () => {
  const head = () => quant(buildDetectorHead());
  const violation = async (p: Promise<unknown>) => {
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RuleViolationError);
    return (e as RuleViolationError).message;
  };

  it('selector-matches: a selector that matches nothing lists the closest names', async () => {
    const msg = await violation(head().layers(/fc8/).params(16).plan());
    expect(msg).toMatch(
      /\[selector-matches\] No layer matched \/fc8\/ \(in \.layers\(\/fc8\/\)\)\. The model has \d+ layers, for example 'fc6', 'fc7'/,
    );
    expect(msg).toMatch(/list the names with `quantsim inspect <model>`/);
    await expect(head().layers(/fc6/).params(16).plan()).resolves.toBeDefined();
    const ops = await violation(head().ops('Sofmax').activations(16).plan());
    expect(ops).toMatch(/No op type matched 'Sofmax'.*for example 'Softmax'/);
  });

  it('bitwidth-range: names the call and the valid range', async () => {
    const msg = await violation(head().layers(/fc6/).params(40).plan());
    expect(msg).toMatch(
      /\[bitwidth-range\] \.layers\(\/fc6\/\)\.params\(40\) sets bitwidth 40 \(int\) on 1 enabled quantizer \(first: param:fc6\.weight\)\. Integer bitwidths run from 2 to 32/,
    );
    const fp = await violation(head().activations({ bits: 8, dtype: 'float' }).plan());
    expect(fp).toMatch(/Float quantization takes 16 or 32 bits/);
    await expect(head().activations({ bits: 16, dtype: 'float' }).plan()).resolves.toBeDefined();
  });

  it('.activations({ scheme }) and .params({ symmetric }) change only what they name: the bitwidth stays', async () => {
    const plan = await head()
      .layers(/fc/)
      .activations(16)
      .layers(/fc|bbox/)
      .activations({ scheme: 'percentile', schemeOptions: { p: 99.9 } })
      .params({ symmetric: false })
      .plan();
    const q = (id: string) => plan.quantizers.find((x) => x.id === id);
    // fc6 was raised to 16 bits before; the scheme-only override keeps that, bbox keeps the default 8.
    expect(q('activation:fc6.relu_out')).toMatchObject({ bitwidth: 16, scheme: 'percentile', schemeOptions: { p: 99.9 } });
    expect(q('activation:bbox_pred_out')).toMatchObject({ bitwidth: 8, scheme: 'percentile' });
    expect(q('param:bbox_pred.weight')).toMatchObject({ bitwidth: 8, symmetric: false });
    // Outside the selection, nothing changed.
    expect(q('param:backbone.conv1.weight')?.symmetric).toBe(true);
    for (const bad of [{}, { bits: 8.5 }, { bits: '8' }] as never[])
      expect(() => head().activations(bad)).toThrow(
        /takes a bitwidth or \{ bits\?, symmetric\?, scheme\?, schemeOptions\?, dtype\? \} \(at least one\)/,
      );
    expect(() => head().activations({ schemeOptions: { p: 99 } } as never)).toThrow(/schemeOptions need the scheme they are for/);
  });

  it('unknown-scheme and unknown-backend list the valid values, and all errors come together', async () => {
    const msg = await violation(head().scheme('tf-enhancd').backend('tpu').plan());
    expect(msg).toMatch(/^2 problems in the quantization plan:/);
    expect(msg).toMatch(
      /\[unknown-scheme\] Encoding scheme 'tf-enhancd' \(set by \.scheme\('tf-enhancd'\)\) is not known\. Known schemes: .*tf-enhanced/,
    );
    expect(msg).toMatch(/\[unknown-backend\] Backend 'tpu' is not registered\. Registered backends: cpu, cuda, webgpu/);
    await expect(head().scheme('percentile', { p: 99.9 }).backend('cpu').plan()).resolves.toBeDefined();
  });

  it('a plugin of the same name is applied once, and plugin rules run in registration order', async () => {
    const order: string[] = [];
    const plugin = (name: string) => ({
      name,
      rules: [
        {
          name: `${name}-rule`,
          phases: ['plan' as const],
          check: () => {
            order.push(name);
            return [];
          },
        },
      ],
    });
    await head().use(plugin('a')).use(plugin('b')).use(plugin('a')).plan();
    expect(order).toEqual(['a', 'b']);
  });

  it('a malformed rule result names the plugin', async () => {
    const bad = { name: 'broken', rules: [{ name: 'oops', phases: ['plan' as const], check: () => 'nope' as never }] };
    await expect(head().use(bad).plan()).rejects.toThrow(
      /Rule 'oops' of plugin 'broken' returned 'nope' instead of a list of diagnostics/,
    );
  });

  it('createQuant without plugins runs no rules', async () => {
    const bare = createQuant();
    await expect(
      bare(buildDetectorHead())
        .layers(/nothing-here/)
        .params(3)
        .plan(),
    ).resolves.toBeDefined();
  });
});
