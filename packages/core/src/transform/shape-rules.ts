import type { KnownDim } from './tensor-info.js';

/*
 * The op families of the opset converter's shape inference (ops whose output has the input's
 * shape, broadcasting ops, reductions…) and the arithmetic on partly known dimensions.
 */

export const SAME_SHAPE: ReadonlySet<string> = new Set([
  'Abs',
  'Acos',
  'Acosh',
  'Asin',
  'Asinh',
  'Atan',
  'Atanh',
  'BatchNormalization',
  'Ceil',
  'Celu',
  'Clip',
  'Cos',
  'Cosh',
  'CumSum',
  'Dropout',
  'Elu',
  'Erf',
  'Exp',
  'Floor',
  'Gelu',
  'HardSigmoid',
  'HardSwish',
  'Hardmax',
  'Identity',
  'InstanceNormalization',
  'LRN',
  'LayerNormalization',
  'LeakyRelu',
  'Log',
  'LogSoftmax',
  'LpNormalization',
  'MeanVarianceNormalization',
  'Mish',
  'Neg',
  'Reciprocal',
  'Relu',
  'Round',
  'Selu',
  'Shrink',
  'Sigmoid',
  'Sign',
  'Sin',
  'Sinh',
  'Softmax',
  'Softplus',
  'Softsign',
  'Sqrt',
  'Tan',
  'Tanh',
  'ThresholdedRelu',
]);
export const BROADCAST: ReadonlySet<string> = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'PRelu',
  'Mod',
  'BitShift',
]);
export const COMPARE: ReadonlySet<string> = new Set([
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
]);
/** Same rank as the input; spatial dims change. */
export const SAME_RANK: ReadonlySet<string> = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'Pad',
  'Resize',
  'Upsample',
  'Tile',
  'GridSample',
]);
export const GLOBAL_POOL: ReadonlySet<string> = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
export const REDUCE: ReadonlySet<string> = new Set([
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
  'ArgMax',
  'ArgMin',
]);

export function add(a: KnownDim, b: KnownDim): KnownDim {
  return a === undefined || b === undefined ? undefined : a + b;
}

export function product(dims: readonly KnownDim[]): KnownDim {
  return dims.reduce<KnownDim>((a, d) => (a === undefined || d === undefined ? undefined : a * d), 1);
}

/** Numpy broadcasting of known ranks; unknown dims stay unknown unless the other side fixes them. */
export function broadcast(shapes: readonly (readonly KnownDim[] | undefined)[]): KnownDim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const list = shapes as readonly (readonly KnownDim[])[];
  const rank = Math.max(0, ...list.map((s) => s.length));
  const out: KnownDim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: KnownDim = 1;
    for (const s of list) {
      const d = s[i - (rank - s.length)];
      if (i - (rank - s.length) < 0 || d === 1) continue;
      if (d === undefined) dim = dim === 1 ? undefined : dim;
      else dim = d;
    }
    out.push(dim);
  }
  return out;
}
