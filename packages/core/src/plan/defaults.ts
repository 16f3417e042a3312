import { InvalidArgumentError } from '../errors/quantsim-error.js';

/**
 * Model-wide quantization defaults: 8-bit activations and params, params symmetric, activations
 * asymmetric, TF-enhanced encodings, bias not quantized, as in AIMET; and, unlike AIMET's default
 * config, per-channel weights for Conv, ConvTranspose, Gemm and MatMul (what ONNX Runtime
 * recommends and AIMET's per-channel and HTP configs use): per-tensor 8-bit weights lose most of
 * the accuracy of models whose folded BatchNorm scales differ widely between channels.
 */
export interface QuantDefaults {
  /** Activation bitwidth (2–32), or 16/32 with `activationDtype: 'float'`. Default 8. */
  readonly activations: number;
  /** Parameter bitwidth. Default 8. */
  readonly params: number;
  /** Encoding scheme of activations (and params unless `paramScheme` is set). Default `tf-enhanced`. */
  readonly scheme: string;
  /** Encoding scheme of params; defaults to `scheme`. */
  readonly paramScheme: string | undefined;
  /** Default true. */
  readonly symmetricParams: boolean;
  /** Default false. */
  readonly symmetricActivations: boolean;
  /**
   * Per-channel weights on the output-channel axis of Conv (axis 0), ConvTranspose (axis 1),
   * Gemm (0 with transB, else 1) and MatMul (the last axis). Default true; `false` (or
   * `.perTensor()`) gives AIMET's per-tensor default.
   */
  readonly perChannel: boolean;
  /** Drop one grid point so that symmetric ranges are balanced ([-127, 127] at 8 bits). Default false. */
  readonly strictSymmetric: boolean;
  /** Symmetric encodings of non-negative tensors use offset 0. Default true. */
  readonly unsignedSymmetric: boolean;
  /** Quantize biases. Default false. */
  readonly quantizeBias: boolean;
  /** `int` (default) or `float` (fp16 simulation) for activations and params. */
  readonly activationDtype: 'int' | 'float';
  readonly paramDtype: 'int' | 'float';
}

/**
 * quantsim's defaults: AIMET's (8-bit, TF-enhanced, symmetric params, asymmetric activations),
 * except per-channel weights (`perChannel: true`); `defaults({ perChannel: false })` restores AIMET's
 * per-tensor default.
 */
export const AIMET_DEFAULTS: QuantDefaults = Object.freeze({
  activations: 8,
  params: 8,
  scheme: 'tf-enhanced',
  paramScheme: undefined,
  symmetricParams: true,
  symmetricActivations: false,
  perChannel: true,
  strictSymmetric: false,
  unsignedSymmetric: true,
  quantizeBias: false,
  activationDtype: 'int',
  paramDtype: 'int',
});

/** Valid integer bitwidths, inclusive. */
export const MIN_BITWIDTH = 2;
export const MAX_BITWIDTH = 32;

/** Checks a bitwidth and dtype pair; returns an error message or `undefined`. */
export function bitwidthProblem(bits: unknown, dtype: 'int' | 'float'): string | undefined {
  if (typeof bits !== 'number' || !Number.isInteger(bits))
    return `a bitwidth must be an integer, received ${JSON.stringify(bits)}`;
  if (dtype === 'float')
    return bits === 16 || bits === 32 ? undefined : `float quantization supports 16 or 32 bits, received ${bits}`;
  return bits >= MIN_BITWIDTH && bits <= MAX_BITWIDTH
    ? undefined
    : `integer bitwidths run from ${MIN_BITWIDTH} to ${MAX_BITWIDTH}, received ${bits}`;
}

const KNOWN = new Set(Object.keys(AIMET_DEFAULTS));

/** Merges user defaults over the current ones, checking names and types. */
export function mergeDefaults(current: QuantDefaults, update: Partial<QuantDefaults>, call: string): QuantDefaults {
  if (typeof update !== 'object' || update === null)
    throw new InvalidArgumentError(
      `${call}: expected an object such as { activations: 8, params: 8 }, received ${String(update)}.`,
    );
  for (const key of Object.keys(update))
    if (!KNOWN.has(key))
      throw new InvalidArgumentError(`${call}: unknown default '${key}'.`, { hint: `Known defaults: ${[...KNOWN].join(', ')}.` });
  const next = { ...current, ...update } as QuantDefaults;
  // Bitwidth ranges are checked by the bitwidth-range rule, together with every other problem.
  for (const field of ['activations', 'params'] as const)
    if (typeof next[field] !== 'number' || !Number.isInteger(next[field]))
      throw new InvalidArgumentError(`${call}: ${field} must be an integer bitwidth, received ${JSON.stringify(next[field])}.`);
  for (const field of ['activationDtype', 'paramDtype'] as const)
    if (next[field] !== 'int' && next[field] !== 'float')
      throw new InvalidArgumentError(`${call}: ${field} must be 'int' or 'float', received ${JSON.stringify(next[field])}.`);
  for (const key of [
    'symmetricParams',
    'symmetricActivations',
    'perChannel',
    'strictSymmetric',
    'unsignedSymmetric',
    'quantizeBias',
  ] as const)
    if (typeof next[key] !== 'boolean')
      throw new InvalidArgumentError(`${call}: ${key} must be true or false, received ${JSON.stringify(next[key])}.`);
  if (typeof next.scheme !== 'string' || (next.paramScheme !== undefined && typeof next.paramScheme !== 'string'))
    throw new InvalidArgumentError(`${call}: scheme must be a scheme name such as 'tf-enhanced' or 'minmax'.`);
  return next;
}
