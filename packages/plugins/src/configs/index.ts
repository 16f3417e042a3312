import type { NamedQuantConfig } from '@quantsim/core';
import aimetDefault from './aimet-default.json' with { type: 'json' };
import aimetPerChannel from './aimet-per-channel.json' with { type: 'json' };
import htp from './htp.json' with { type: 'json' };
import ort from './ort.json' with { type: 'json' };

const named = (name: string, description: string, config: object): NamedQuantConfig =>
  Object.freeze({ name, description, config: config as Readonly<Record<string, unknown>> });

/** AIMET's default config: per-tensor symmetric weights, asymmetric activations, bias off, AIMET's supergroups. */
export const aimetDefaultConfig: NamedQuantConfig = named(
  'aimet-default',
  "AIMET's default_config.json semantics: per-tensor symmetric 8-bit weights, asymmetric activations, bias not quantized.",
  aimetDefault,
);

/** AIMET's per-channel config: as `aimet-default` with per-channel weights, except Gemm and MatMul. */
export const aimetPerChannelConfig: NamedQuantConfig = named(
  'aimet-per-channel',
  "AIMET's default_config_per_channel.json semantics: per-channel weights except Gemm, MatMul and LayerNorm.",
  aimetPerChannel,
);

/** A Hexagon-NPU-like target: per-channel weights, 8/8, 16/8 and 16/16 kernels (8/8 first), its supergroups. */
export const htpConfig: NamedQuantConfig = named(
  'htp',
  'A Hexagon-NPU-like target: per-channel weights, signed symmetric grids, 8/8, 16/8 and 16/16 kernels, Conv/Gemm/Add activation supergroups.',
  htp,
);

/** ONNX Runtime's QDQ placement: quantizers only around the ops its quantizer handles; uint8 activations, int8 per-channel weights. */
export const ortConfig: NamedQuantConfig = named(
  'ort',
  "ONNX Runtime's QDQ placement: inputs and outputs of the ops it quantizes only, asymmetric 8-bit activations, symmetric per-channel 8-bit weights.",
  ort,
);

/** Every named config of the default plugin. */
export const defaultConfigs: readonly NamedQuantConfig[] = Object.freeze([
  aimetDefaultConfig,
  aimetPerChannelConfig,
  htpConfig,
  ortConfig,
]);
