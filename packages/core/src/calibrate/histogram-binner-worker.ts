// The binning thread of HistogramBinner: an accumulator per tensor, fed the values the main
// thread transfers, and their statistics on `finish`.
import { parentPort } from 'node:worker_threads';
import type { TensorStats } from '../contracts/stats.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import type { BinnerReply, BinnerRequest } from './histogram-binner.js';
import { createStatsAccumulator, type StatsAccumulator } from './stats.js';

const accumulators = new Map<string, StatsAccumulator>();
const port = parentPort;
if (!port)
  throw new InvalidArgumentError('histogram-binner-worker runs as a worker thread of HistogramBinner, not on its own.', {
    hint: 'Calibrate through quant(model).calibrate(), which starts it.',
  });

port.on('message', (request: BinnerRequest) => {
  if (request.type === 'add') {
    let acc = accumulators.get(request.tensor);
    if (!acc) {
      acc = createStatsAccumulator({ histogram: true });
      accumulators.set(request.tensor, acc);
    }
    const before = acc.nonFinite;
    acc.add(request.values, undefined, request.range);
    port.postMessage({
      type: 'added',
      tensor: request.tensor,
      sample: request.sample,
      elements: request.values.length,
      nonFinite: acc.nonFinite - before,
    } satisfies BinnerReply);
    return;
  }
  const tensors: Record<string, TensorStats> = {};
  for (const [t, acc] of accumulators) tensors[t] = acc.toStats();
  port.postMessage({ type: 'stats', tensors } satisfies BinnerReply);
});
