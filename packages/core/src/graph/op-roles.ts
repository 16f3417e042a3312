import type { ParamRole } from '../contracts/spec.js';

export type { ParamRole } from '../contracts/spec.js';

/**
 * Which inputs of an op are parameters when they are constant (initializers or Constant-node
 * outputs). MatMul is handled apart: whichever operand is constant is its weight.
 */
export const PARAM_INPUTS: Readonly<Record<string, Readonly<Record<number, ParamRole>>>> = {
  Conv: { 1: 'weight', 2: 'bias' },
  ConvTranspose: { 1: 'weight', 2: 'bias' },
  Gemm: { 1: 'weight', 2: 'bias' },
  BatchNormalization: { 1: 'scale', 2: 'bias', 3: 'mean', 4: 'variance' },
  InstanceNormalization: { 1: 'scale', 2: 'bias' },
  LayerNormalization: { 1: 'scale', 2: 'bias' },
  GroupNormalization: { 1: 'scale', 2: 'bias' },
  LSTM: { 1: 'weight', 2: 'recurrence', 3: 'bias' },
  GRU: { 1: 'weight', 2: 'recurrence', 3: 'bias' },
  RNN: { 1: 'weight', 2: 'recurrence', 3: 'bias' },
  PRelu: { 1: 'slope' },
};

/**
 * Data-movement ops whose output holds values of their first input, unchanged (reshaped,
 * selected, repeated, pooled by maximum): an encoding read through them is the input's. The
 * QDQ export looks through them for a bias's input scale.
 */
export const VALUE_FORWARDING_OPS: ReadonlySet<string> = new Set([
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Identity',
  'Split',
  'Slice',
  'Gather',
  'GatherElements',
  'GatherND',
  'Expand',
  'Tile',
  'DepthToSpace',
  'SpaceToDepth',
  'MaxPool',
  'Dropout',
  'Resize',
  'Upsample',
]);

/**
 * Ops that only move, select or reshape data: their outputs keep their input's encoding,
 * so no activation quantizer is placed after them (as AIMET does). A superset of
 * {@link VALUE_FORWARDING_OPS}.
 */
export const DATA_MOVEMENT_OPS: ReadonlySet<string> = new Set([
  ...VALUE_FORWARDING_OPS,
  'Concat',
  'Cast',
  'Shape',
  'Size',
  'Pad',
  'ReduceMax',
  'ReduceMin',
  'TopK',
  'NonZero',
  'ConstantOfShape',
  'Range',
  'Where',
  'If',
  'Loop',
  'Scan',
]);

/** Ops whose outputs are never floating point whatever their inputs. */
const INT64_OUTPUT_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const BOOL_OUTPUT_OPS = new Set([
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
]);

/** Whether the op's output `index` has a fixed element type; returns it or `undefined`. */
export function fixedOutputType(opType: string, index: number): 'int64' | 'bool' | undefined {
  if (INT64_OUTPUT_OPS.has(opType)) return 'int64';
  if (BOOL_OUTPUT_OPS.has(opType)) return 'bool';
  if (opType === 'TopK' && index === 1) return 'int64';
  if ((opType === 'MaxPool' || opType === 'Unique') && index >= 1) return 'int64';
  return undefined;
}

/** For ops whose output type follows one specific input, which input (default 0). */
export function typeSourceInput(opType: string): number {
  if (opType === 'Where') return 1;
  if (opType === 'DequantizeLinear') return 1;
  return 0;
}
