import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDetectorHead } from '../../../../examples/detector-head/detector-head-model.js';
import { parseAimetEncodings, parseQuantConfig, type QuantBuilder, QuantsimError, quant } from '../../src/index.js';

// Property-based tests: random inputs, and one property each: quantsim answers with its own
// typed errors (a QuantsimError with a code), never a TypeError or a raw exception. A failure
// prints the shrunk counterexample and the seed to replay it. (.npy reading is fuzzed with its
// own package.)
const model = buildDetectorHead();
const RUNS = { dsl: 150, encodings: 1500, config: 800 };

function typedOnly(e: unknown): 'typed' {
  if (e instanceof QuantsimError && typeof e.code === 'string' && e.code.length > 0) return 'typed';
  throw new Error(`untyped error: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
}

const anyValue = fc.oneof(
  fc.integer({ min: -2, max: 40 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(true, false, 'yes', '', null, undefined, 'True', {}, [], 'minmax'),
);

/** Mostly valid values, sometimes anything: both paths get exercised. */
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
const bits = mostly(fc.constantFrom(4, 8, 16));
const bool = mostly(fc.boolean());
const aimetBool = mostly(fc.constantFrom('True', 'False', true, false));

/** One call of the DSL, with arguments valid or not. */
type Step = readonly [string, readonly unknown[]];
const layerPattern = fc.oneof(
  fc.constantFrom(/fc/, /bbox|cls/, /^nothing$/, 'fc6', 'backbone.conv1', '', /./),
  fc.string({ maxLength: 6 }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.tuple(fc.constant('layers'), fc.array(layerPattern, { maxLength: 2 })),
  fc.tuple(fc.constant('ops'), fc.array(fc.constantFrom('Conv', 'Gemm', 'Relu', 'Softmax', 'Nope', ''), { maxLength: 2 })),
  fc.tuple(fc.constant('tensors'), fc.array(layerPattern, { maxLength: 2 })),
  fc.tuple(fc.constant('all'), fc.constant([])),
  fc.tuple(
    fc.constantFrom('params', 'activations', 'inputs'),
    fc.tuple(fc.oneof(bits, fc.record({ bits, symmetric: bool }, { requiredKeys: ['bits'] }))),
  ),
  fc.tuple(fc.constant('perChannel'), fc.oneof(fc.constant([]), fc.tuple(mostly(fc.integer({ min: 0, max: 5 }))))),
  fc.tuple(fc.constantFrom('perTensor', 'asymmetric', 'disable', 'enable', 'recalibrate'), fc.constant([])),
  fc.tuple(fc.constant('symmetric'), fc.oneof(fc.constant([]), fc.tuple(fc.record({ strict: bool }, { requiredKeys: [] })))),
  fc.tuple(
    fc.constant('scheme'),
    fc.tuple(
      fc.constantFrom('minmax', 'tf-enhanced', 'percentile', 'mse', 'entropy', 'nope', ''),
      fc.constantFrom({}, { p: 99 }, { p: 200 }, { gamma: 3 }, { bins: 0 }, { bogus: 1 }),
    ),
  ),
  fc.tuple(
    fc.constant('defaults'),
    fc.tuple(
      fc.record(
        { activations: bits, params: bits, perChannel: bool, scheme: mostly(fc.constantFrom('minmax', 'tf-enhanced')) },
        { requiredKeys: [] },
      ),
    ),
  ),
  fc.tuple(fc.constant('mode'), fc.tuple(fc.constantFrom('simulate', 'emulate', 'fast'))),
  fc.tuple(fc.constant('foldBatchNorms'), fc.tuple(fc.boolean())),
);

/** Applies a chain; returns the builder, or 'typed' when a call refused its arguments. */
function apply(steps: readonly Step[]): QuantBuilder | 'typed' {
  let b: QuantBuilder = quant(model);
  for (const [name, args] of steps) {
    try {
      b = (b as unknown as Record<string, (...a: unknown[]) => QuantBuilder>)[name]?.(...args) as QuantBuilder;
    } catch (e) {
      return typedOnly(e);
    }
  }
  return b;
}

async function planOrTyped(b: QuantBuilder): Promise<string | 'typed'> {
  try {
    return JSON.stringify((await b.plan()).toJSON());
  } catch (e) {
    return typedOnly(e);
  }
}

describe('property-based fuzzing beyond model files', () => {
  it('DSL: random chains of selectors and modifiers give a plan or a typed error; plans are deterministic; forks are independent', async () => {
    const counts = { chains: 0, planned: 0, refusedAtCall: 0, refusedAtPlan: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 8 }),
        fc.array(step, { minLength: 1, maxLength: 3 }),
        async (steps, forkSteps) => {
          counts.chains++;
          const b = apply(steps);
          if (b === 'typed') {
            counts.refusedAtCall++;
            return;
          }
          const first = await planOrTyped(b);
          if (first === 'typed') {
            counts.refusedAtPlan++;
            return;
          }
          counts.planned++;
          // Forking a builder never changes it, and its plan comes out the same every time.
          const fork = apply([...steps, ...forkSteps]);
          if (fork !== 'typed') await planOrTyped(fork);
          expect(await planOrTyped(b)).toBe(first);
        },
      ),
      // Counterexamples found on earlier runs stay in every run (.inputs(null) threw a TypeError).
      { numRuns: RUNS.dsl, examples: [[[['inputs', [null]]], [['defaults', [{}]]]]] },
    );
    console.log(
      `fuzz DSL: ${counts.chains} random chains: ${counts.planned} planned (deterministic, forks independent), ${counts.refusedAtCall} refused at a call, ${counts.refusedAtPlan} refused by plan(), 0 untyped errors`,
    );
    expect(counts.planned).toBeGreaterThan(0);
    expect(counts.refusedAtCall + counts.refusedAtPlan).toBeGreaterThan(0);
  });

  it('encodings reader: random JSON shapes give parsed encodings or typed errors only', () => {
    const num = fc.oneof(fc.double(), fc.integer(), fc.constantFrom('1', null, Number.NaN, 1e308, -0));
    const channel = fc.record(
      {
        bitwidth: num,
        min: num,
        max: num,
        scale: num,
        offset: num,
        is_symmetric: anyValue,
        dtype: fc.constantFrom('int', 'float', 'INT', 3),
      },
      { requiredKeys: [] },
    );
    const entry100 = fc.record(
      {
        name: fc.constantFrom('fc6.weight', 'fc7.relu_out', 'image', 'nope', 7),
        dtype: fc.constantFrom('INT', 'FLOAT', 'int', 'x'),
        enc_type: fc.constantFrom('PER_TENSOR', 'PER_CHANNEL', 'PER_BLOCK', 1),
        bw: num,
        is_sym: anyValue,
        scale: fc.oneof(fc.array(num, { maxLength: 3 }), num),
        offset: fc.oneof(fc.array(num, { maxLength: 3 }), num),
      },
      { requiredKeys: [] },
    );
    const section = fc.oneof(
      fc.dictionary(
        fc.constantFrom('fc6.weight', 'fc7.relu_out', 'image', ''),
        fc.oneof(fc.array(channel, { maxLength: 3 }), channel, anyValue),
      ),
      fc.array(entry100, { maxLength: 4 }),
      anyValue,
    );
    const valid100 = fc.record({
      name: fc.constantFrom('fc6.weight', 'fc7.weight', 'fc7.relu_out', 'image', 'nope'),
      dtype: fc.constantFrom('INT', 'INT', 'INT', 'FLOAT', 'x'),
      enc_type: fc.constantFrom('PER_TENSOR', 'PER_TENSOR', 'PER_CHANNEL'),
      bw: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(8, 16, 4) }, { weight: 1, arbitrary: num }),
      is_sym: fc.oneof({ weight: 5, arbitrary: fc.boolean() }, { weight: 1, arbitrary: anyValue }),
      scale: fc.array(
        fc.oneof({ weight: 5, arbitrary: fc.double({ min: 1e-6, max: 1, noNaN: true }) }, { weight: 1, arbitrary: num }),
        { minLength: 1, maxLength: 2 },
      ),
      offset: fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -255, max: 0 }) }, { weight: 1, arbitrary: num }), {
        minLength: 1,
        maxLength: 2,
      }),
    });
    const file = fc.oneof(
      fc.record({
        version: fc.constantFrom('1.0.0', '1.0.0', '2.0.0'),
        activation_encodings: fc.array(valid100, { maxLength: 3 }),
        param_encodings: fc.array(valid100, { maxLength: 3 }),
      }),
      fc.record(
        {
          version: fc.constantFrom('0.6.1', '1.0.0', '2.0.0', '0.4.0', '3.0', 1, undefined),
          activation_encodings: section,
          param_encodings: section,
          encodings: fc.array(entry100, { maxLength: 3 }),
          excluded_layers: anyValue,
          quantizer_args: anyValue,
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    const counts = { inputs: 0, parsed: 0, typed: 0 };
    fc.assert(
      fc.property(file, fc.boolean(), (json, asText) => {
        counts.inputs++;
        try {
          const input = asText ? (JSON.stringify(json) ?? 'undefined') : (json as object);
          parseAimetEncodings(input, '<fuzz>');
          counts.parsed++;
        } catch (e) {
          typedOnly(e);
          counts.typed++;
        }
      }),
      { numRuns: RUNS.encodings },
    );
    for (const text of ['', '{', '\u0000', '[]', 'null', '{"version":"1.0.0"}'])
      try {
        parseAimetEncodings(text, '<fuzz>');
        counts.parsed++;
      } catch (e) {
        typedOnly(e);
        counts.typed++;
      }
    console.log(
      `fuzz encodings reader: ${counts.inputs + 6} random inputs: ${counts.parsed} parsed, ${counts.typed} typed errors, 0 untyped`,
    );
    expect(counts.typed).toBeGreaterThan(0);
    expect(counts.parsed).toBeGreaterThan(0);
  });

  it('AIMET config reader: random config shapes give a config (and a plan) or typed errors only', async () => {
    const flag = aimetBool;
    const kernels = fc.oneof(
      fc.array(
        fc.record(
          {
            activation: fc.record({ bitwidth: anyValue, dtype: anyValue }, { requiredKeys: [] }),
            param: fc.record({ bitwidth: anyValue }, { requiredKeys: [] }),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
      anyValue,
    );
    const opSettings = fc.dictionary(
      fc.constantFrom(
        'is_output_quantized',
        'is_input_quantized',
        'is_symmetric',
        'per_channel_quantization',
        'supported_kernels',
        'is_symmetric',
        'typo_key',
      ),
      fc.oneof(
        { weight: 6, arbitrary: flag },
        { weight: 1, arbitrary: kernels },
        fc.dictionary(
          fc.constantFrom('weight', 'bias', 'nope'),
          fc.record({ is_quantized: flag, is_symmetric: flag }, { requiredKeys: [] }),
        ),
      ),
    );
    const config = fc.oneof(
      fc.record(
        {
          defaults: fc.record(
            {
              ops: fc.record({ is_output_quantized: flag, is_symmetric: flag }, { requiredKeys: [] }),
              params: fc.record({ is_quantized: flag, is_symmetric: flag }, { requiredKeys: [] }),
              strict_symmetric: flag,
              unsigned_symmetric: flag,
              per_channel_quantization: flag,
              supported_kernels: kernels,
            },
            { requiredKeys: [] },
          ),
          params: fc.dictionary(
            fc.constantFrom('weight', 'bias', 'var', 'nope'),
            fc.record({ is_quantized: flag, is_symmetric: flag }, { requiredKeys: [] }),
          ),
          op_type: fc.dictionary(fc.constantFrom('Conv', 'Gemm', 'Relu', 'Softmax', 'Convv'), opSettings, { maxKeys: 2 }),
          supergroups: fc.oneof(
            fc.array(fc.record({ op_list: fc.array(fc.constantFrom('Conv', 'Relu', 'Gemm', 3), { maxLength: 3 }) }), {
              maxLength: 2,
            }),
            anyValue,
          ),
          model_input: fc.record({ is_input_quantized: flag }, { requiredKeys: [] }),
          model_output: fc.record({ is_output_quantized: flag }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    const counts = { configs: 0, parsed: 0, planned: 0, typed: 0 };
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      await fc.assert(
        fc.asyncProperty(config, async (json) => {
          counts.configs++;
          try {
            parseQuantConfig(json, '<fuzz>');
            counts.parsed++;
            await quant(model)
              .config(json as object)
              .plan();
            counts.planned++;
          } catch (e) {
            typedOnly(e);
            counts.typed++;
          }
        }),
        { numRuns: RUNS.config },
      );
    } finally {
      console.warn = warn;
    }
    console.log(
      `fuzz AIMET config reader: ${counts.configs} random configs: ${counts.parsed} parsed, ${counts.planned} planned, ${counts.typed} typed errors, 0 untyped`,
    );
    expect(counts.typed).toBeGreaterThan(0);
    expect(counts.planned).toBeGreaterThan(0);
  });
});
