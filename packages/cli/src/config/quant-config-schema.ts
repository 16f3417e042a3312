import type { QuantDefaults } from '@quantsim/core';
import { z } from 'zod';

const BITS = 'a bitwidth: an integer from 2 to 32 (or 16/32 with dtype: float)';

const bits = z.number({ error: `expected ${BITS}` }).int({ error: `expected ${BITS}` });

const quantizerSetting = z.union(
  [
    bits,
    z.strictObject({
      bits,
      symmetric: z.boolean().optional(),
      scheme: z.string().optional(),
      schemeOptions: z.record(z.string(), z.unknown()).optional(),
      dtype: z.enum(['int', 'float']).optional(),
    }),
  ],
  { error: `expected ${BITS}, or { bits, symmetric?, scheme?, schemeOptions?, dtype? }` },
);

const patterns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a pattern or a list of patterns',
});

/** Model-wide defaults, with the names and meanings of `QuantDefaults`. */
const defaults = z.strictObject({
  activations: bits.optional(),
  params: bits.optional(),
  scheme: z.string().optional(),
  paramScheme: z.string().optional(),
  symmetricParams: z.boolean().optional(),
  symmetricActivations: z.boolean().optional(),
  perChannel: z.boolean().optional(),
  strictSymmetric: z.boolean().optional(),
  unsignedSymmetric: z.boolean().optional(),
  quantizeBias: z.boolean().optional(),
  activationDtype: z.enum(['int', 'float']).optional(),
  paramDtype: z.enum(['int', 'float']).optional(),
});

/**
 * One override: a selector (`layers` or `tensors`: regular expressions; `ops`: op types; none:
 * every quantizer) and the modifiers of the builder, applied in the order listed here.
 */
const override = z
  .strictObject({
    layers: patterns.optional(),
    ops: patterns.optional(),
    tensors: patterns.optional(),
    scheme: z
      .union([z.string(), z.strictObject({ name: z.string(), options: z.record(z.string(), z.unknown()).optional() })], {
        error: "expected a scheme name such as 'tf-enhanced', or { name, options }",
      })
      .optional(),
    symmetric: z.union([z.boolean(), z.literal('strict')], { error: "expected true, false or 'strict'" }).optional(),
    perChannel: z
      .union([z.boolean(), z.number().int().min(0)], { error: 'expected true, false, or a channel axis (an integer from 0)' })
      .optional(),
    activations: quantizerSetting.optional(),
    params: quantizerSetting.optional(),
    inputs: z.union([z.literal(true), quantizerSetting], { error: `expected true or ${BITS}` }).optional(),
    disable: z.boolean().optional(),
  })
  .superRefine((o, ctx) => {
    const selectors = (['layers', 'ops', 'tensors'] as const).filter((k) => o[k] !== undefined);
    if (selectors.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: [selectors[1] as string],
        message: `give one selector per override, not both ${selectors.join(' and ')}; split it into two overrides`,
      });
    for (const key of ['layers', 'tensors'] as const) {
      const value = o[key];
      const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
      list.forEach((p, i) => {
        try {
          new RegExp(p);
        } catch (e) {
          ctx.addIssue({
            code: 'custom',
            path: Array.isArray(value) ? [key, i] : [key],
            message: `${JSON.stringify(p)} is not a valid regular expression (${(e as Error).message})`,
          });
        }
      });
    }
    const modifiers = ['scheme', 'symmetric', 'perChannel', 'activations', 'params', 'inputs', 'disable'] as const;
    if (!modifiers.some((k) => o[k] !== undefined))
      ctx.addIssue({ code: 'custom', path: [], message: `sets nothing; add one of ${modifiers.join(', ')}` });
  });

/** Settings of one kind of quantizer: a bitwidth, or the options of `.activations()`/`.params()`. */
export type QuantizerSetting =
  | number
  | {
      readonly bits: number;
      readonly symmetric?: boolean | undefined;
      readonly scheme?: string | undefined;
      readonly schemeOptions?: Readonly<Record<string, unknown>> | undefined;
      readonly dtype?: 'int' | 'float' | undefined;
    };

/** One entry of `overrides`: a selector (at most one) and modifiers, applied in the order listed. */
export interface QuantOverrideEntry {
  /** Regular expressions on layer names. */
  readonly layers?: string | readonly string[] | undefined;
  /** Op types, matched exactly. */
  readonly ops?: string | readonly string[] | undefined;
  /** Regular expressions on the quantized tensors' names. */
  readonly tensors?: string | readonly string[] | undefined;
  readonly scheme?:
    | string
    | { readonly name: string; readonly options?: Readonly<Record<string, unknown>> | undefined }
    | undefined;
  /** `'strict'` drops one grid point ([-127, 127] at 8 bits). */
  readonly symmetric?: boolean | 'strict' | undefined;
  /** `true` on the output-channel axis, a number for another axis, `false` for per-tensor. */
  readonly perChannel?: boolean | number | undefined;
  readonly activations?: QuantizerSetting | undefined;
  readonly params?: QuantizerSetting | undefined;
  /** Adds input quantizers to the selected layers (`true`: with the defaults). */
  readonly inputs?: true | QuantizerSetting | undefined;
  /** `true` turns the quantizers off, `false` on. */
  readonly disable?: boolean | undefined;
}

/** A validated `--config` file: `QuantDefaults` fields and a list of overrides. */
export interface QuantConfigFile {
  readonly defaults?: Partial<QuantDefaults> | undefined;
  readonly overrides?: readonly QuantOverrideEntry[] | undefined;
}

/**
 * The `--config` file of `quantsim quantize` and `analyze`, in JSON or YAML: model-wide
 * `defaults` and a list of `overrides`, the builder's DSL as data.
 */
export const quantConfigSchema: z.ZodType<QuantConfigFile> = z.strictObject({
  defaults: defaults.optional(),
  overrides: z.array(override, { error: 'expected a list of overrides' }).optional(),
});

/** The keys an override may have, for messages. */
export const OVERRIDE_KEYS: readonly string[] = Object.keys(override.shape);

/** The keys `defaults` may have, for messages. */
export const DEFAULT_KEYS: readonly string[] = Object.keys(defaults.shape);
