import { readFileSync } from 'node:fs';
import { ConfigFileError } from '../errors/config-file-error.js';
import type { ParamRole } from '../graph/op-roles.js';

export { ConfigFileError } from '../errors/config-file-error.js';

/** Settings of one kind of quantizer in an AIMET config: `is_quantized`, `is_symmetric`. */
export interface ConfigQuantizerSettings {
  readonly quantized?: boolean;
  readonly symmetric?: boolean;
}

/** Per-op-type settings of an AIMET config. */
export interface ConfigOpSettings {
  readonly outputQuantized?: boolean;
  readonly inputQuantized?: boolean;
  readonly symmetric?: boolean;
  readonly perChannel?: boolean;
  readonly params?: Readonly<Partial<Record<ParamRole, ConfigQuantizerSettings>>>;
  readonly activationBitwidth?: number;
  readonly paramBitwidth?: number;
}

/**
 * An AIMET quantsim config file as plain data: `defaults`, `params`, `op_type`, `supergroups`,
 * `model_input` and `model_output`. It sits between the defaults and the builder's overrides.
 */
export interface QuantConfig {
  readonly source: string;
  readonly defaults: {
    readonly ops: ConfigQuantizerSettings & { readonly outputQuantized?: boolean; readonly inputQuantized?: boolean };
    readonly params: ConfigQuantizerSettings;
    readonly strictSymmetric?: boolean;
    readonly unsignedSymmetric?: boolean;
    readonly perChannel?: boolean;
    readonly activationBitwidth?: number;
    readonly paramBitwidth?: number;
  };
  readonly params: Readonly<Partial<Record<ParamRole, ConfigQuantizerSettings>>>;
  readonly opTypes: Readonly<Record<string, ConfigOpSettings>>;
  readonly supergroups: readonly (readonly string[])[];
  readonly modelInputQuantized?: boolean;
  readonly modelOutputQuantized?: boolean;
}

const PARAM_NAMES: Record<string, ParamRole> = {
  weight: 'weight',
  bias: 'bias',
  scale: 'scale',
  mean: 'mean',
  var: 'variance',
  variance: 'variance',
  slope: 'slope',
  recurrence: 'recurrence',
};

/** Reads an AIMET quantsim config from a JSON file or an object. */
export function readQuantConfig(fileOrObject: string | object): QuantConfig {
  if (typeof fileOrObject === 'string') {
    let text: string;
    try {
      text = readFileSync(fileOrObject, 'utf8');
    } catch (e) {
      throw new ConfigFileError(fileOrObject, `cannot be read (${(e as Error).message})`, 'Check the path.');
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ConfigFileError(fileOrObject, `is not valid JSON (${(e as Error).message})`);
    }
    return parseQuantConfig(json, fileOrObject);
  }
  return parseQuantConfig(fileOrObject, '<object>');
}

/** Converts parsed JSON into a {@link QuantConfig}, checking every field it knows. */
export function parseQuantConfig(json: unknown, source: string): QuantConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigFileError(source, 'the top level must be an object');
  const root = json as Record<string, unknown>;
  const known = new Set(['defaults', 'params', 'op_type', 'supergroups', 'model_input', 'model_output']);
  for (const key of Object.keys(root))
    if (!known.has(key))
      throw new ConfigFileError(source, `unknown section '${key}'`, `Known sections: ${[...known].join(', ')}.`);
  const defaults = obj(root.defaults, 'defaults', source);
  const ops = obj(defaults.ops, 'defaults.ops', source);
  const params = obj(defaults.params, 'defaults.params', source);
  const kernels = kernelBitwidths(defaults.supported_kernels, 'defaults.supported_kernels', source);
  const opTypes: Record<string, ConfigOpSettings> = {};
  for (const [op, value] of Object.entries(obj(root.op_type, 'op_type', source))) {
    const o = obj(value, `op_type.${op}`, source);
    const k = kernelBitwidths(o.supported_kernels, `op_type.${op}.supported_kernels`, source);
    opTypes[op] = dropUndefined({
      outputQuantized: bool(o.is_output_quantized, `op_type.${op}.is_output_quantized`, source),
      inputQuantized: bool(o.is_input_quantized, `op_type.${op}.is_input_quantized`, source),
      symmetric: bool(o.is_symmetric, `op_type.${op}.is_symmetric`, source),
      perChannel: bool(o.per_channel_quantization, `op_type.${op}.per_channel_quantization`, source),
      params: o.params === undefined ? undefined : paramSection(o.params, `op_type.${op}.params`, source),
      activationBitwidth: k?.activation,
      paramBitwidth: k?.param,
    });
  }
  const supergroups = (root.supergroups ?? []) as unknown;
  if (!Array.isArray(supergroups)) throw new ConfigFileError(source, 'supergroups must be a list of { "op_list": [...] }');
  const groups = supergroups.map((g, i) => {
    const list = (g as { op_list?: unknown })?.op_list;
    if (!Array.isArray(list) || list.length < 2 || !list.every((s) => typeof s === 'string'))
      throw new ConfigFileError(source, `supergroups[${i}].op_list must list at least two op types`);
    return list as string[];
  });
  const modelInput = obj(root.model_input, 'model_input', source);
  const modelOutput = obj(root.model_output, 'model_output', source);
  return {
    source,
    defaults: dropUndefined({
      ops: dropUndefined({
        outputQuantized: bool(ops.is_output_quantized, 'defaults.ops.is_output_quantized', source),
        inputQuantized: bool(ops.is_input_quantized, 'defaults.ops.is_input_quantized', source),
        symmetric: bool(ops.is_symmetric, 'defaults.ops.is_symmetric', source),
      }),
      params: dropUndefined({
        quantized: bool(params.is_quantized, 'defaults.params.is_quantized', source),
        symmetric: bool(params.is_symmetric, 'defaults.params.is_symmetric', source),
      }),
      strictSymmetric: bool(defaults.strict_symmetric, 'defaults.strict_symmetric', source),
      unsignedSymmetric: bool(defaults.unsigned_symmetric, 'defaults.unsigned_symmetric', source),
      perChannel: bool(defaults.per_channel_quantization, 'defaults.per_channel_quantization', source),
      activationBitwidth: kernels?.activation,
      paramBitwidth: kernels?.param,
    }),
    params: paramSection(root.params, 'params', source),
    opTypes,
    supergroups: groups,
    ...dropUndefined({
      modelInputQuantized: bool(modelInput.is_input_quantized, 'model_input.is_input_quantized', source),
      modelOutputQuantized: bool(modelOutput.is_output_quantized, 'model_output.is_output_quantized', source),
    }),
  };
}

function paramSection(value: unknown, where: string, source: string): Partial<Record<ParamRole, ConfigQuantizerSettings>> {
  const out: Partial<Record<ParamRole, ConfigQuantizerSettings>> = {};
  for (const [name, v] of Object.entries(obj(value, where, source))) {
    const role = PARAM_NAMES[name];
    if (!role)
      throw new ConfigFileError(
        source,
        `${where}.${name} is not a known parameter`,
        `Known: ${Object.keys(PARAM_NAMES).join(', ')}.`,
      );
    const s = obj(v, `${where}.${name}`, source);
    out[role] = dropUndefined({
      quantized: bool(s.is_quantized, `${where}.${name}.is_quantized`, source),
      symmetric: bool(s.is_symmetric, `${where}.${name}.is_symmetric`, source),
    });
  }
  return out;
}

/** AIMET's `supported_kernels`: the first kernel sets the default bitwidths. */
function kernelBitwidths(value: unknown, where: string, source: string): { activation?: number; param?: number } | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw new ConfigFileError(source, `${where} must be a non-empty list`);
  const first = value[0] as { activation?: { bitwidth?: unknown }; param?: { bitwidth?: unknown } };
  const num = (v: unknown, w: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigFileError(source, `${w} must be an integer bitwidth`);
    return v;
  };
  return dropUndefined({
    activation: num(first.activation?.bitwidth, `${where}[0].activation.bitwidth`),
    param: num(first.param?.bitwidth, `${where}[0].param.bitwidth`),
  });
}

function obj(value: unknown, where: string, source: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigFileError(source, `${where} must be an object`);
  return value as Record<string, unknown>;
}

/** AIMET writes booleans as the strings "True"/"False"; accept real booleans too. */
function bool(value: unknown, where: string, source: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'True' || value === 'true') return true;
  if (value === false || value === 'False' || value === 'false') return false;
  throw new ConfigFileError(source, `${where} must be "True" or "False", received ${JSON.stringify(value)}`);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
