import { create } from '@bufbuild/protobuf';
import { type AttributeProto, TensorProto_DataType as DT, type NodeProto, NodeProtoSchema } from 'onnx-buf';
import { type AttrValue, makeAttribute } from '../onnx/factory.js';
import { castName, type TensorInfo } from './tensor-info.js';

/*
 * How each default-domain operator changed between opsets, and how to rewrite a node from the
 * form before a change to the form after it. Sources: the ONNX operator changelog
 * (onnx/onnx docs/Changelog.md) and the ONNX version converter's adapters
 * (onnx/onnx onnx/version_converter/convert.h and adapters/*.h), checked against ONNX Runtime's
 * kernels where the specification left behaviour open (Resize before opset 11).
 */

/** What an adapter can ask about the graph it rewrites, and how it adds to it. */
export interface AdapterContext {
  /** The opset the node's current form belongs to (the model's opset, or the last step applied). */
  readonly version: number;
  /** The opset the model is converted to. */
  readonly target: number;
  /** Static facts about a tensor of the node's graph (rank, element type), when known. */
  info(name: string): TensorInfo | undefined;
  /** The values of a constant tensor (initializer or Constant node), when it is one. */
  constant(name: string): readonly number[] | undefined;
  /** Whether anything reads the tensor (a node in any graph, or a graph output). */
  isUsed(name: string): boolean;
  /** A tensor name not used anywhere in the model. */
  unique(base: string): string;
  /** Adds an int64 initializer and returns its name. */
  int64(base: string, values: readonly number[], dims?: readonly number[]): string;
  /** Adds an initializer of a floating-point element type (float32 by default) and returns its name. */
  floating(base: string, values: readonly number[], dtype?: number, dims?: readonly number[]): string;
  /** Inserts a node before the one being rewritten. */
  before(node: NodeProto): void;
  /** Inserts a node after the one being rewritten. */
  after(node: NodeProto): void;
}

/**
 * Rewrites a node in place from the form before {@link OpStep.at} to the form at it.
 * Returns why it cannot, or nothing when done.
 */
export type Adapter = (node: NodeProto, ctx: AdapterContext) => string | undefined;

/** A change of an operator that existing nodes must be rewritten for. */
export interface OpStep {
  /** The opset that introduced the change. */
  readonly at: number;
  /** Rewrites a node from the form before `at` to the form at `at`. */
  readonly adapt: Adapter;
}

/** How to bring an operator forward. */
export interface OpRule {
  /** The oldest opset whose form of this operator the steps know; older ones are refused. */
  readonly minSource?: number;
  /** The changes, in opset order; an operator without any kept its behaviour and only gained types or attributes with old defaults. */
  readonly steps?: readonly OpStep[];
}

// ---------------------------------------------------------------------------------------------
// Attribute helpers

/** The attribute of this name, if any. */
export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function removeAttr(node: NodeProto, ...names: string[]): void {
  node.attribute = node.attribute.filter((a) => !names.includes(a.name));
}

function setAttr(node: NodeProto, name: string, value: AttrValue): void {
  removeAttr(node, name);
  node.attribute.push(makeAttribute(name, value));
}

function stringAttr(node: NodeProto, name: string): string | undefined {
  const a = getAttr(node, name);
  return a ? new TextDecoder().decode(a.s) : undefined;
}

function intsOf(a: AttributeProto): number[] {
  return a.ints.map((v) => Number(v));
}

/** Sets input `index`, filling skipped optional inputs with ''. */
function setInput(node: NodeProto, index: number, name: string): void {
  while (node.input.length < index) node.input.push('');
  node.input[index] = name;
}

/** A node in the default domain. */
export function makeNode(opType: string, input: string[], output: string[], attrs: Record<string, AttrValue> = {}): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    domain: '',
    input,
    output,
    attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
  });
}

/** The element type of a data input (float when unknown: the old float-only ops took float32 in practice). */
function dataType(node: NodeProto, ctx: AdapterContext, index = 0): number {
  const name = node.input[index];
  return (name ? ctx.info(name)?.dtype : undefined) ?? DT.FLOAT;
}

// ---------------------------------------------------------------------------------------------
// Adapters

/** Drops attributes that a new version removed without a change of meaning. */
const drop =
  (...names: string[]): Adapter =>
  (node) => {
    removeAttr(node, ...names);
    return undefined;
  };

/**
 * An `axes` (or other ints) attribute becomes an int64 input. Squeeze/Unsqueeze and ReduceSum
 * at 13, the other Reduce ops at 18 (`AxesAttributeToInput` in the version converter). Without
 * the attribute the input stays absent, which means the same (all axes; Squeeze: all 1-dims).
 */
const intsToInput =
  (attrName: string, index: number): Adapter =>
  (node, ctx) => {
    const a = getAttr(node, attrName);
    if (!a) return undefined;
    removeAttr(node, attrName);
    setInput(node, index, ctx.int64(`${node.output[0] ?? node.opType}__${attrName}`, intsOf(a)));
    return undefined;
  };

/**
 * Opset 7 replaced the legacy `broadcast`/`axis` attributes of the arithmetic and comparison
 * ops by numpy broadcasting. They agree when B aligns with A's trailing dimensions, which is
 * the default (no axis) and any `axis = rank(A) − rank(B)`.
 */
const legacyBroadcast: Adapter = (node, ctx) => {
  const broadcast = getAttr(node, 'broadcast');
  const axisAttr = getAttr(node, 'axis');
  removeAttr(node, 'broadcast', 'axis');
  if (!broadcast || broadcast.i === 0n || !axisAttr) return undefined;
  const ra = node.input[0] ? ctx.info(node.input[0])?.shape?.length : undefined;
  const rb = node.input[1] ? ctx.info(node.input[1])?.shape?.length : undefined;
  if (ra === undefined || rb === undefined) return 'legacy broadcast with an axis, on inputs of unknown rank';
  const axis = Number(axisAttr.i) < 0 ? Number(axisAttr.i) + ra : Number(axisAttr.i);
  return axis + rb === ra ? undefined : `legacy broadcast along axis ${axis} that numpy broadcasting does not reproduce`;
};

/** Clip-11 takes min and max as inputs of the data's type instead of float attributes. */
const clipAttrsToInputs: Adapter = (node, ctx) => {
  const min = getAttr(node, 'min');
  const max = getAttr(node, 'max');
  removeAttr(node, 'min', 'max');
  const type = dataType(node, ctx);
  const out = node.output[0] ?? 'clip';
  if (min) setInput(node, 1, ctx.floating(`${out}__min`, [min.f], type, []));
  if (max) setInput(node, 2, ctx.floating(`${out}__max`, [max.f], type, []));
  return undefined;
};

/** Slice-10 takes starts, ends and axes as int64 inputs instead of attributes. */
const sliceAttrsToInputs: Adapter = (node, ctx) => {
  const starts = getAttr(node, 'starts');
  const ends = getAttr(node, 'ends');
  const axes = getAttr(node, 'axes');
  if (!starts || !ends) return 'Slice without starts or ends';
  removeAttr(node, 'starts', 'ends', 'axes');
  const out = node.output[0] ?? 'slice';
  setInput(node, 1, ctx.int64(`${out}__starts`, intsOf(starts)));
  setInput(node, 2, ctx.int64(`${out}__ends`, intsOf(ends)));
  if (axes) setInput(node, 3, ctx.int64(`${out}__axes`, intsOf(axes)));
  return undefined;
};

/** TopK-10 takes k as a one-element int64 input. */
const topkAttrToInput: Adapter = (node, ctx) => {
  const k = getAttr(node, 'k');
  if (!k) return 'TopK without k';
  removeAttr(node, 'k');
  setInput(node, 1, ctx.int64(`${node.output[0] ?? 'topk'}__k`, [Number(k.i)], [1]));
  return undefined;
};

/**
 * Pad-11 takes pads (int64) and constant_value (the data's type) as inputs. Pad-1 named the
 * attribute `paddings`, Pad-2 `pads`; both are [x1_begin, x2_begin, …, x1_end, x2_end, …].
 */
const padAttrsToInputs: Adapter = (node, ctx) => {
  const pads = getAttr(node, 'pads') ?? getAttr(node, 'paddings');
  if (!pads) return 'Pad without pads';
  const value = getAttr(node, 'value');
  removeAttr(node, 'pads', 'paddings', 'value');
  const out = node.output[0] ?? 'pad';
  node.input = [node.input[0] ?? ''];
  setInput(node, 1, ctx.int64(`${out}__pads`, intsOf(pads)));
  const mode = stringAttr(node, 'mode') ?? 'constant';
  if (mode === 'constant' && value && value.f !== 0)
    setInput(node, 2, ctx.floating(`${out}__value`, [value.f], dataType(node, ctx), []));
  return undefined;
};

/** Split-13 takes the split sizes as an int64 input. Split-1's optional split input is not handled. */
const splitAttrToInput: Adapter = (node, ctx) => {
  const split = getAttr(node, 'split');
  if (!split) return undefined;
  removeAttr(node, 'split');
  setInput(node, 1, ctx.int64(`${node.output[0] ?? 'split'}__split`, intsOf(split)));
  return undefined;
};

/**
 * Split-18 wants either the split input or `num_outputs`; an even split without either gets
 * `num_outputs` = its number of outputs (`Split_17_18` in the version converter).
 */
const splitNumOutputs: Adapter = (node) => {
  if ((node.input[1] ?? '') === '' && !getAttr(node, 'num_outputs')) setAttr(node, 'num_outputs', node.output.length);
  return undefined;
};

const splitFromV1: Adapter = (node) =>
  (node.input[1] ?? '') !== '' ? 'Split-1 with the split sizes as a second input' : undefined;

/**
 * Softmax, LogSoftmax and Hardmax before opset 13 coerce the input to 2-D at `axis` (default 1)
 * and normalise each row; from 13 they work along the one axis `axis` (default −1). They agree
 * when `axis` is the last dimension. Otherwise the old meaning is Flatten(axis) → op(axis −1) →
 * Reshape back to the input's shape (`Softmax_12_13` in the version converter). The rank comes
 * from the shapes where known; where not, the reshape form is used, which is right for any rank.
 */
const softmaxAxis: Adapter = (node, ctx) => {
  const a = getAttr(node, 'axis');
  const axis = a ? Number(a.i) : 1;
  const x = node.input[0] ?? '';
  const rank = ctx.info(x)?.shape?.length;
  const normalized = rank !== undefined && axis < 0 ? axis + rank : axis;
  if (axis === -1 || (rank !== undefined && normalized === rank - 1)) {
    setAttr(node, 'axis', -1);
    return undefined;
  }
  const out = node.output[0] ?? '';
  const shape = ctx.unique(`${out}__shape`);
  const flat = ctx.unique(`${out}__2d_in`);
  const y = ctx.unique(`${out}__2d`);
  ctx.before(makeNode('Shape', [x], [shape]));
  ctx.before(makeNode('Flatten', [x], [flat], { axis }));
  node.input[0] = flat;
  node.output[0] = y;
  setAttr(node, 'axis', -1);
  // allowzero (opset 14) makes a 0 in the shape a real 0 instead of "copy this dimension".
  ctx.after(makeNode('Reshape', [y, shape], [out], ctx.target >= 14 ? { allowzero: 1 } : {}));
  return undefined;
};

/** Reshape-5 takes the shape as an int64 input. */
const reshapeAttrToInput: Adapter = (node, ctx) => {
  const shape = getAttr(node, 'shape');
  if (!shape) return (node.input[1] ?? '') === '' ? 'Reshape without a shape' : undefined;
  removeAttr(node, 'shape');
  node.input = [node.input[0] ?? ''];
  setInput(node, 1, ctx.int64(`${node.output[0] ?? 'reshape'}__shape`, intsOf(shape)));
  return undefined;
};

/** Concat-4 made `axis` required; it defaulted to 1 before. */
const concatAxis: Adapter = (node) => {
  if (!getAttr(node, 'axis')) setAttr(node, 'axis', 1);
  return undefined;
};

/** Cast-6 takes the target type as an enum; Cast-1 named it as a string ('FLOAT', 'INT64'…). */
const castToEnum: Adapter = (node) => {
  const to = getAttr(node, 'to');
  if (!to || to.s.length === 0) return undefined;
  const name = new TextDecoder().decode(to.s);
  const code = castName(name);
  if (code === undefined) return `Cast to unknown type '${name}'`;
  setAttr(node, 'to', code);
  return undefined;
};

/** BatchNormalization-9 removed `spatial`; only spatial = 1 (the default) keeps its meaning. */
const batchNormSpatial: Adapter = (node) => {
  const spatial = getAttr(node, 'spatial');
  removeAttr(node, 'spatial');
  return spatial && spatial.i === 0n ? 'BatchNormalization with spatial = 0 (per-activation statistics)' : undefined;
};

/**
 * BatchNormalization-14 has the running-statistics outputs only in training mode. Unused ones
 * are dropped (`BatchNormalization_13_14` refuses any); used ones cannot be kept.
 */
const batchNormOutputs: Adapter = (node, ctx) => {
  const extra = node.output.slice(1).filter((o) => o !== '');
  if (extra.some((o) => ctx.isUsed(o))) return 'BatchNormalization whose training outputs (running mean, variance…) are used';
  node.output = node.output.slice(0, 1);
  return undefined;
};

/** Dropout-10 made the mask boolean; a mask that something reads would change type. */
const dropoutMask: Adapter = (node, ctx) => {
  const mask = node.output[1];
  if (mask && ctx.isUsed(mask)) return 'Dropout whose mask output is used (its type changed to bool at opset 10)';
  return undefined;
};

/** Dropout-12 takes the ratio as an input; without training_mode it is still inference (identity). */
const dropoutRatio: Adapter = (node, ctx) => {
  const ratio = getAttr(node, 'ratio');
  removeAttr(node, 'ratio');
  if (ratio) setInput(node, 1, ctx.floating(`${node.output[0] ?? 'dropout'}__ratio`, [ratio.f], DT.FLOAT, []));
  return undefined;
};

/** Upsample-9 takes the scales as a float input instead of an attribute. */
const upsampleScales: Adapter = (node, ctx) => {
  const scales = getAttr(node, 'scales');
  if (!scales) return (node.input[1] ?? '') === '' ? 'Upsample without scales' : undefined;
  removeAttr(node, 'scales');
  setInput(node, 1, ctx.floating(`${node.output[0] ?? 'upsample'}__scales`, scales.floats, DT.FLOAT, [scales.floats.length]));
  return undefined;
};

/**
 * Upsample was deprecated at opset 10 in favour of Resize, which then had the same inputs
 * (X, scales) and meaning (asymmetric coordinates; ONNX Runtime runs both with one kernel).
 * The Resize steps that follow bring it to the current Resize.
 */
const upsampleToResize: Adapter = (node) => {
  node.opType = 'Resize';
  const mode = stringAttr(node, 'mode');
  if (mode === 'bilinear' || mode === 'trilinear') setAttr(node, 'mode', 'linear');
  return undefined;
};

/**
 * Resize-11 inserted `roi` before `scales` and added coordinate_transformation_mode (default
 * half_pixel) and nearest_mode (default round_prefer_floor). Resize-10 and Upsample used
 * asymmetric coordinates, and for nearest ONNX Runtime truncated when upsampling and took the
 * ceiling when downsampling (`ResizeNearestMode::SIMPLE` in upsamplebase.h). The version
 * converter's `Resize_10_11` only moves the input, which changes results; here the old
 * behaviour is spelled out. Nearest needs constant scales to choose floor or ceil.
 */
const resize10to11: Adapter = (node, ctx) => {
  const scales = node.input[1] ?? '';
  const out = node.output[0] ?? 'resize';
  const mode = stringAttr(node, 'mode') ?? 'nearest';
  if (mode === 'nearest') {
    const values = scales ? ctx.constant(scales) : undefined;
    if (!values) return 'nearest Resize/Upsample with scales that are not constant (the rounding depends on them)';
    const up = values.some((s) => s > 1);
    const down = values.some((s) => s < 1);
    if (up && down) return 'nearest Resize/Upsample that enlarges some axes and shrinks others';
    setAttr(node, 'nearest_mode', down ? 'ceil' : 'floor');
  }
  setAttr(node, 'coordinate_transformation_mode', 'asymmetric');
  // roi is a required input at opsets 11 and 12: an empty tensor stands for "none".
  node.input = [node.input[0] ?? '', ctx.floating(`${out}__roi`, [], DT.FLOAT, [0]), scales];
  return undefined;
};

/**
 * Resize-13 made roi, scales and sizes optional (empty names instead of empty tensors) and
 * dropped the coordinate mode tf_half_pixel_for_nn, x' = (x + ½)/s. That is half_pixel shifted
 * by ½, which two nearest modes express exactly: floor(y + ½) = round_prefer_ceil(y) and
 * round_prefer_floor(y + ½) = ceil(y).
 */
const resize12to13: Adapter = (node, ctx) => {
  const coord = stringAttr(node, 'coordinate_transformation_mode') ?? 'half_pixel';
  if (coord === 'tf_half_pixel_for_nn') {
    const nearest = stringAttr(node, 'nearest_mode') ?? 'round_prefer_floor';
    const mapped: Record<string, string> = { floor: 'round_prefer_ceil', round_prefer_floor: 'ceil' };
    const to = mapped[nearest];
    if ((stringAttr(node, 'mode') ?? 'nearest') !== 'nearest' || !to)
      return `Resize with coordinate mode tf_half_pixel_for_nn and nearest_mode ${nearest}`;
    setAttr(node, 'coordinate_transformation_mode', 'half_pixel');
    setAttr(node, 'nearest_mode', to);
  }
  const isEmpty = (name: string | undefined) => name !== undefined && name !== '' && ctx.constant(name)?.length === 0;
  if (coord !== 'tf_crop_and_resize' && isEmpty(node.input[1])) node.input[1] = '';
  if ((node.input[3] ?? '') !== '' && isEmpty(node.input[2])) node.input[2] = '';
  while (node.input.length > 1 && node.input[node.input.length - 1] === '') node.input.pop();
  return undefined;
};

/** Scatter was deprecated at 11 for ScatterElements, the same operation under a new name. */
const scatterToScatterElements: Adapter = (node) => {
  node.opType = 'ScatterElements';
  return undefined;
};

/** RoiAlign-16 added coordinate_transformation_mode, defaulting to half_pixel; the old behaviour is output_half_pixel. */
const roiAlignMode: Adapter = (node) => {
  if (!getAttr(node, 'coordinate_transformation_mode')) setAttr(node, 'coordinate_transformation_mode', 'output_half_pixel');
  return undefined;
};

/** GridSample-20 renamed its modes: bilinear → linear, bicubic → cubic. */
const gridSampleModes: Adapter = (node) => {
  const mode = stringAttr(node, 'mode');
  if (mode === 'bilinear') setAttr(node, 'mode', 'linear');
  if (mode === 'bicubic') setAttr(node, 'mode', 'cubic');
  return undefined;
};

const refuse =
  (reason: string): Adapter =>
  () =>
    reason;

// ---------------------------------------------------------------------------------------------
// The table

/** Operators whose every version since opset 1 kept old models' meaning (new types, optional inputs, attributes whose defaults are the old behaviour). */
const UNCHANGED = [
  'Abs',
  'Acos',
  'Acosh',
  'ArgMax',
  'ArgMin',
  'Asin',
  'Asinh',
  'Atan',
  'Atanh',
  'AveragePool', // 7 count_include_pad, 10 ceil_mode, 19 dilations: defaults are the old behaviour
  'Bernoulli',
  'BitShift',
  'BitwiseAnd',
  'BitwiseNot',
  'BitwiseOr',
  'BitwiseXor',
  'BlackmanWindow',
  'CastLike',
  'Ceil',
  'Celu',
  'CenterCropPad',
  'Col2Im',
  'Compress',
  'ConcatFromSequence',
  'Constant',
  'ConstantOfShape',
  'Conv', // 11 clarified auto_pad; 22 types
  'ConvInteger',
  'ConvTranspose',
  'Cos',
  'Cosh',
  'CumSum',
  'DepthToSpace', // 11 mode, default DCR = the old behaviour
  'DequantizeLinear', // 13 per-axis, 19/21 types and blocks
  'Det',
  'DynamicQuantizeLinear',
  'Einsum',
  'Elu',
  'Erf',
  'Exp',
  'Expand',
  'EyeLike',
  'Flatten',
  'Floor',
  'Gather',
  'GatherElements',
  'GatherND',
  'Gelu',
  'GlobalAveragePool',
  'GlobalLpPool',
  'GlobalMaxPool',
  'GreaterOrEqual',
  'HammingWindow',
  'HannWindow',
  'HardSigmoid',
  'HardSwish',
  'Identity',
  'If',
  'InstanceNormalization',
  'IsInf',
  'IsNaN',
  'LayerNormalization',
  'LeakyRelu',
  'LessOrEqual',
  'Log',
  'Loop',
  'LpNormalization',
  'LpPool', // 18 ceil_mode, default 0
  'LRN',
  'MatMul',
  'MatMulInteger',
  'Max', // 8 multidirectional broadcasting, a superset of the old equal shapes
  'MaxPool', // 8 storage_order and indices, 10 ceil_mode/dilations, 12 int8
  'MaxRoiPool',
  'MaxUnpool',
  'Mean',
  'MeanVarianceNormalization',
  'MelWeightMatrix',
  'Min',
  'Mish',
  'Mod',
  'Multinomial',
  'Neg',
  'NegativeLogLikelihoodLoss',
  'NonMaxSuppression',
  'NonZero',
  'Not',
  'OneHot',
  'Optional',
  'OptionalGetElement',
  'OptionalHasElement',
  'PRelu', // the version converter treats 6 → 7 as compatible
  'QLinearConv',
  'QLinearMatMul',
  'QuantizeLinear',
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Range',
  'Reciprocal',
  'Relu',
  'ReverseSequence',
  'Round',
  'ScatterElements',
  'ScatterND',
  'Selu',
  'SequenceAt',
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceErase',
  'SequenceInsert',
  'SequenceLength',
  'SequenceMap',
  'Shape', // 15 start/end, defaults = the whole shape
  'Shrink',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Size',
  'Softplus',
  'SoftmaxCrossEntropyLoss',
  'Softsign',
  'SpaceToDepth',
  'Sqrt',
  'SplitToSequence',
  'STFT',
  'StringNormalizer',
  'Sum',
  'Tan',
  'Tanh',
  'TfIdfVectorizer',
  'ThresholdedRelu',
  'Transpose',
  'Trilu',
  'Unique',
  'Where',
];

const broadcastOps = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less'];
const reduceAt18 = [
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
];

/**
 * Every default-domain operator the converter knows, with the changes to rewrite. An operator
 * missing here (experimental ops removed at opset 10, newer ops the table has not been checked
 * for) is refused rather than guessed.
 */
export const OP_RULES: ReadonlyMap<string, OpRule> = new Map<string, OpRule>([
  ...UNCHANGED.map((op): [string, OpRule] => [op, {}]),
  ...broadcastOps.map((op): [string, OpRule] => [op, { steps: [{ at: 7, adapt: legacyBroadcast }] }]),
  ...reduceAt18.map((op): [string, OpRule] => [op, { steps: [{ at: 18, adapt: intsToInput('axes', 1) }] }]),
  ['ReduceSum', { steps: [{ at: 13, adapt: intsToInput('axes', 1) }] }],
  ['Squeeze', { steps: [{ at: 13, adapt: intsToInput('axes', 1) }] }],
  ['Unsqueeze', { steps: [{ at: 13, adapt: intsToInput('axes', 1) }] }],
  ['Softmax', { steps: [{ at: 13, adapt: softmaxAxis }] }],
  ['LogSoftmax', { steps: [{ at: 13, adapt: softmaxAxis }] }],
  // The version converter lists Hardmax 12 → 13 as compatible, but Hardmax-13 changed `axis`
  // exactly as Softmax-13 did (Changelog: Hardmax-13), so it gets the same rewrite.
  ['Hardmax', { steps: [{ at: 13, adapt: softmaxAxis }] }],
  ['Clip', { steps: [{ at: 11, adapt: clipAttrsToInputs }] }],
  ['Slice', { steps: [{ at: 10, adapt: sliceAttrsToInputs }] }],
  ['TopK', { steps: [{ at: 10, adapt: topkAttrToInput }] }],
  ['Pad', { steps: [{ at: 11, adapt: padAttrsToInputs }] }],
  [
    'Split',
    {
      steps: [
        { at: 2, adapt: splitFromV1 },
        { at: 13, adapt: splitAttrToInput },
        { at: 18, adapt: splitNumOutputs },
      ],
    },
  ],
  ['Reshape', { steps: [{ at: 5, adapt: reshapeAttrToInput }] }], // 14 allowzero, default 0 = the old behaviour
  ['Concat', { steps: [{ at: 4, adapt: concatAxis }] }],
  ['Cast', { steps: [{ at: 6, adapt: castToEnum }] }], // 19 saturate only concerns float8
  ['Gemm', { steps: [{ at: 7, adapt: drop('broadcast') }] }], // 7 unidirectional broadcasting of C
  [
    'BatchNormalization',
    {
      steps: [
        { at: 7, adapt: drop('is_test') },
        { at: 9, adapt: batchNormSpatial },
        { at: 14, adapt: batchNormOutputs },
      ],
    },
  ],
  [
    'Dropout',
    {
      steps: [
        // Dropout-6 without is_test was training mode; every runtime ran it as inference anyway.
        { at: 7, adapt: drop('is_test') },
        { at: 10, adapt: dropoutMask },
        { at: 12, adapt: dropoutRatio },
      ],
    },
  ],
  [
    'Upsample',
    {
      minSource: 7,
      steps: [
        { at: 9, adapt: upsampleScales },
        { at: 10, adapt: upsampleToResize },
      ],
    },
  ],
  [
    'Resize',
    {
      steps: [
        { at: 11, adapt: resize10to11 },
        { at: 13, adapt: resize12to13 },
      ],
    },
  ],
  ['Scatter', { steps: [{ at: 11, adapt: scatterToScatterElements }] }],
  ['RoiAlign', { steps: [{ at: 16, adapt: roiAlignMode }] }],
  ['GridSample', { steps: [{ at: 20, adapt: gridSampleModes }] }],
  ['Tile', { minSource: 6 }], // Tile-1 took tiles and axis inputs
  ['Scan', { minSource: 9 }], // Scan-8 had a batch axis and sequence_lens
  ['LSTM', { minSource: 7 }],
  ['GRU', { minSource: 7 }],
  ['RNN', { minSource: 7 }],
  [
    'GroupNormalization',
    { steps: [{ at: 21, adapt: refuse('GroupNormalization-21 takes per-channel scale and bias instead of per-group') }] },
  ],
  ['DFT', { steps: [{ at: 20, adapt: refuse('DFT-20 takes the axis as an input') }] }],
]);
