import { editDistance } from '../errors/edit-distance.js';
import type { GraphView } from '../graph/graph-view.js';
import type { QuantConfig } from './config-file.js';

/** The op types of the default ONNX domain (ai.onnx) up to opset 23, and common ms-domain ones. */
const ONNX_OP_TYPES: ReadonlySet<string> = new Set(
  (
    'Abs Acos Acosh Add AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Bernoulli ' +
    'BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Cast CastLike Ceil Celu CenterCropPad Clip Col2Im ' +
    'Compress Concat ConcatFromSequence Constant ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh CumSum DFT ' +
    'DeformConv DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum Elu Equal Erf Exp Expand ' +
    'EyeLike Flatten Floor GRU Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool ' +
    'Greater GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow HardSigmoid HardSwish Hardmax ' +
    'Identity If ImageDecoder InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual ' +
    'Log LogSoftmax Loop LpNormalization LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean ' +
    'MeanVarianceNormalization MelWeightMatrix Min Mish Mod Mul Multinomial Neg NegativeLogLikelihoodLoss ' +
    'NonMaxSuppression NonZero Not OneHot Optional OptionalGetElement OptionalHasElement Or PRelu Pad Pow QLinearConv ' +
    'QLinearMatMul QuantizeLinear RMSNormalization RNN RandomNormal RandomNormalLike RandomUniform RandomUniformLike ' +
    'Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ' +
    'ReduceSumSquare RegexFullMatch Relu Reshape Resize ReverseSequence RoiAlign RotaryEmbedding Round STFT Scan Scatter ' +
    'ScatterElements ScatterND Selu SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert SequenceLength ' +
    'SequenceMap Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus Softsign ' +
    'SpaceToDepth Split SplitToSequence Sqrt Squeeze StringConcat StringNormalizer StringSplit Sub Sum Swish Tan Tanh ' +
    'TensorScatter TfIdfVectorizer ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Upsample Where Xor ' +
    'Attention FusedConv FusedGemm FusedMatMul QuickGelu BiasGelu SkipLayerNormalization'
  ).split(' '),
);

/** The known op type nearest to a misspelt one, when it is close. */
export function nearestOpType(name: string, extra: Iterable<string> = []): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const op of new Set([...ONNX_OP_TYPES, ...extra])) {
    const d = editDistance(name.toLowerCase(), op.toLowerCase(), { transpositions: true });
    if (d < bestD) [best, bestD] = [op, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * Warnings about a config's `op_type` names that are not ONNX op types (a typo such as `Convv`):
 * AIMET accepts them and applies them to nothing, so quantsim warns rather than fails.
 */
export function configWarnings(config: QuantConfig | undefined, graph: GraphView): string[] {
  if (!config) return [];
  const inModel = new Set(graph.nodes.map((n) => n.opType));
  const out: string[] = [];
  for (const op of Object.keys(config.opTypes)) {
    if (ONNX_OP_TYPES.has(op) || inModel.has(op)) continue;
    const near = nearestOpType(op, inModel);
    out.push(
      `quantsim: config ${config.source}: op_type '${op}' is not an ONNX op type, so its settings apply to nothing (AIMET ignores it too).${near ? ` Did you mean '${near}'?` : ''}`,
    );
  }
  return out;
}
