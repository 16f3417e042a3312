// The binning thread of HistogramBinner: an accumulator per tensor, fed the values the main
// thread transfers, and their statistics on `finish`.
import { parentPort } from 'node:worker_threads';
import type { TensorStats } from '../contracts/stats.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import { binWithDerived } from './derived-values.js';
import type { BinnerReply, BinnerRequest } from './histogram-binner.js';
import { createStatsAccumulator, type StatsAccumulator } from './stats.js';

const accumulators = new Map<string, StatsAccumulator>();
const accumulator = (tensor: string): StatsAccumulator => {
  let acc = accumulators.get(tensor);
  if (!acc) {
    acc = createStatsAccumulator({ histogram: true });
    accumulators.set(tensor, acc);
  }
  return acc;
};
const port = parentPort;
if (!port)
  throw new InvalidArgumentError('histogram-binner-worker runs as a worker thread of HistogramBinner, not on its own.', {
    hint: 'Calibrate through quant(model).calibrate(), which starts it.',
  });

port.on('message', (request: BinnerRequest) => {
  if (request.type === 'add') {
    const nonFinite = binWithDerived(accumulator, request.tensor, request.values, request.range, request.derived);
    port.postMessage({
      type: 'added',
      tensor: request.tensor,
      sample: request.sample,
      elements: request.work,
      ...(nonFinite !== undefined ? { nonFinite } : {}),
    } satisfies BinnerReply);
    return;
  }
  const tensors: Record<string, TensorStats> = {};
  for (const [t, acc] of accumulators) tensors[t] = acc.toStats();
  port.postMessage({ type: 'stats', tensors } satisfies BinnerReply);
});
