import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDetectorHead, detectorImages } from '../../../../examples/detector-head/detector-head-model.js';
import { InvalidArgumentError, QuantsimError, quant } from '../../src/index.js';

const data = detectorImages(2);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'quantsim-late-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error a promise rejects with (or a function throws). */
async function errorOf(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('mistakes fail in plan(), with the value received and the fix', () => {
  it('perChannel(7) on 4-D weights fails in plan(), naming the valid axes', async () => {
    const err = await errorOf(() => quant(buildDetectorHead()).ops('Conv').perChannel(7).plan());
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(
      /^\.ops\('Conv'\)\.perChannel\(7\): axis 7 is out of range for \S+ \(shape \[\d+, \d+, \d+, \d+\], rank 4\); valid axes are 0 to 3\. Omit the axis/,
    );
  });

  it('scheme options the scheme rejects fail in plan(), not at calibration', async () => {
    const err = await errorOf(() => quant(buildDetectorHead()).scheme('percentile', { p: 200 }).plan());
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(
      /^\.scheme\('percentile', \{"p":200\}\): Scheme 'percentile': option 'p' must be a number in \[50, 100\], received 200/,
    );
    const typo = await errorOf(() => quant(buildDetectorHead()).scheme('tf-enhanced', { gama: 3 }).plan());
    expect(typo.message).toMatch(/has no option 'gama'; its options are 'gamma', 'bins'/);
  });

  it("symmetric: 'yes' and { strict: 'no' } are refused at the call", () => {
    expect(() => quant(buildDetectorHead()).params({ bits: 8, symmetric: 'yes' as never })).toThrow(
      /^\.params\(\): symmetric must be true or false, received 'yes'\. For example \.params\(\{ bits: 8, symmetric: true \}\)/,
    );
    expect(() => quant(buildDetectorHead()).symmetric({ strict: 'no' as never })).toThrow(
      /^\.symmetric\(\): strict must be true or false, received 'no'\. For example \.symmetric\(\{ strict: true \}\)/,
    );
    expect(() => quant(buildDetectorHead()).symmetric({ stric: true } as never)).toThrow(/unknown option 'stric'/);
  });

  it("encodingVersion: '3.0' is refused, listing the versions", async () => {
    const sim = await quant(buildDetectorHead()).scheme('minmax').calibrate(data);
    const err = await errorOf(() => sim.export(path.join(dir, 'v3'), { encodingVersion: '3.0' as never }));
    expect(err).toBeInstanceOf(QuantsimError);
    expect(err.message).toBe(
      "export(): encodingVersion '3.0' is not an AIMET encodings version. Valid versions: '0.6.1', '1.0.0', '2.0.0' (default '1.0.0').",
    );
    await sim.release();
  });

  it('a selector with no modifier fails instead of doing nothing', async () => {
    const err = await errorOf(() => quant(buildDetectorHead()).layers(/fc/).plan());
    expect(err.message).toMatch(
      /^\.layers\(\/fc\/\) selects quantizers but no modifier follows it, so it changes nothing\. Add a modifier/,
    );
    expect(() => quant(buildDetectorHead()).layers(/fc6/).layers(/fc7/)).toThrow(
      /^\.layers\(\/fc6\/\) selects quantizers but no modifier/,
    );
    expect((await errorOf(() => quant(buildDetectorHead()).params(8).all().plan())).message).toMatch(/^\.all\(\) selects/);
    // A selection followed by a modifier, and forks of one selection, are fine.
    const fc = quant(buildDetectorHead()).layers(/fc/);
    const [a, b] = await Promise.all([fc.params(16).plan(), fc.activations(16).plan()]);
    expect(a.get('param:fc6.weight')?.bitwidth).toBe(16);
    expect(b.get('param:fc6.weight')?.bitwidth).toBe(8);
  });

  it('AIMET config: unknown keys fail with the valid keys; an op type that is no ONNX op warns with the nearest', async () => {
    expect(() => quant(buildDetectorHead()).config({ defaults: { ops: { is_output_quantised: 'True' } } })).toThrow(
      /defaults\.ops has an unknown key 'is_output_quantised'\. Valid keys in defaults\.ops: is_output_quantized, is_input_quantized, is_symmetric/,
    );
    expect(() => quant(buildDetectorHead()).config({ op_type: { Conv: { per_channel: 'True' } } })).toThrow(
      /op_type\.Conv has an unknown key 'per_channel'\. Valid keys in op_type\.Conv: .*per_channel_quantization/,
    );
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await quant(buildDetectorHead())
        .config({ op_type: { Convv: { is_output_quantized: 'False' } } })
        .plan();
      expect(warn.mock.calls.map((c) => String(c[0]))).toContainEqual(
        expect.stringMatching(
          /op_type 'Convv' is not an ONNX op type, so its settings apply to nothing \(AIMET ignores it too\)\. Did you mean 'Conv'\?/,
        ),
      );
    } finally {
      warn.mockRestore();
    }
  });
});
