import type { Feeds, TensorArray, TensorData } from '../contracts/tensor.js';
import { FeedError } from '../errors/feed-error.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import type { GraphView } from '../graph/graph-view.js';
import type { DTypeName } from '../onnx/dtype.js';

export { FeedError } from '../errors/feed-error.js';

/** A tensor as users may pass it: a full {@link TensorData}, or `{ data, dims }` (type from the array). */
export type TensorLike = TensorData | { readonly data: TensorArray; readonly dims: readonly number[] };

/** Model inputs as users may pass them. */
export type FeedsLike = Readonly<Record<string, TensorLike>>;

/** Calibration data: a list, an iterable or async iterable of feeds, or a function returning one. */
export type CalibrationData =
  | Iterable<FeedsLike>
  | AsyncIterable<FeedsLike>
  | (() => Iterable<FeedsLike> | AsyncIterable<FeedsLike>);

/** The element type of a typed array. */
export function typeOfArray(data: TensorArray): DTypeName {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'uint64';
}

/**
 * Checks feeds against the model's inputs (names, element types, ranks and fixed dimensions)
 * and normalises them to {@link TensorData}. `where` names the sample for messages.
 */
export function checkFeeds(feeds: unknown, graph: GraphView, where: string): Feeds {
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds))
    throw new FeedError(
      `${where}: expected an object of input tensors by name, received ${describeValue(feeds)}.`,
      `The model's inputs: ${graph.inputs.join(', ')}.`,
    );
  const record = feeds as Record<string, unknown>;
  const out: Record<string, TensorData> = {};
  const missing = graph.inputs.filter((n) => !(n in record));
  if (missing.length > 0)
    throw new FeedError(
      `${where}: missing input ${missing.map((m) => `'${m}'`).join(', ')}.`,
      `The model's inputs: ${graph.inputs.join(', ')}.`,
    );
  for (const [name, value] of Object.entries(record)) {
    const t = graph.tensor(name);
    if (!graph.inputs.includes(name) || !t)
      throw new FeedError(`${where}: '${name}' is not an input of the model.`, `The model's inputs: ${graph.inputs.join(', ')}.`);
    const v = value as Partial<TensorData>;
    if (typeof v !== 'object' || v === null || !ArrayBuffer.isView(v.data) || !Array.isArray(v.dims))
      throw new FeedError(
        `${where}: input '${name}' must be { data: TypedArray, dims: number[] }, received ${describeValue(value)}.`,
        'For example { data: new Float32Array(3 * 48 * 320), dims: [1, 3, 48, 320] }.',
      );
    const data = v.data as TensorArray;
    const type = v.type ?? typeOfArray(data);
    const count = v.dims.reduce((a, b) => a * b, 1);
    if (count !== data.length)
      throw new FeedError(
        `${where}: input '${name}' has ${data.length} values but dims [${v.dims.join(', ')}] need ${count}.`,
        'Check the dims.',
      );
    if (t.dtype && type !== t.dtype)
      throw new FeedError(
        `${where}: input '${name}' is ${type} but the model expects ${t.dtype}.`,
        `Convert the data to ${t.dtype}.`,
      );
    if (t.shape) {
      if (t.shape.length !== v.dims.length)
        throw new FeedError(
          `${where}: input '${name}' has dims [${v.dims.join(', ')}] but the model expects rank ${t.shape.length} [${t.shape.join(', ')}].`,
          'Reshape the data.',
        );
      t.shape.forEach((d, i) => {
        if (typeof d === 'number' && d > 0 && v.dims?.[i] !== d)
          throw new FeedError(
            `${where}: input '${name}' has dimension ${i} = ${v.dims?.[i]} but the model fixes it at ${d} ([${t.shape?.join(', ')}]).`,
            'Resize the data.',
          );
      });
    }
    out[name] = { type, data, dims: v.dims };
  }
  return out;
}

/** Iterates calibration data of any accepted form. */
export async function* iterateData(data: CalibrationData): AsyncGenerator<FeedsLike> {
  const source = typeof data === 'function' ? data() : data;
  if (source === null || (typeof source !== 'object' && typeof source !== 'function'))
    throw new InvalidArgumentError(
      `Calibration data must be an array, an iterable or an async iterable of feeds, received ${describeValue(source)}.`,
    );
  if (Symbol.asyncIterator in source) {
    for await (const item of source as AsyncIterable<FeedsLike>) yield item;
    return;
  }
  if (Symbol.iterator in source) {
    for (const item of source as Iterable<FeedsLike>) yield item;
    return;
  }
  throw new InvalidArgumentError('Calibration data must be an array, an iterable or an async iterable of feeds.', {
    hint: 'For example [{ x: { data, dims } }, …], or a generator function.',
  });
}
