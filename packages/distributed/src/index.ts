/**
 * Calibration, analyses and AMP searches over a BullMQ queue on Redis: `calibrateOnQueue`,
 * `analyzeOnQueue` and `autoMixedPrecisionOnQueue` on a coordinator, `runWorker` (or the
 * `quantsim-worker` command) on any number of machines. The merged statistics, and so the
 * encodings, are the same as a single-process `builder.calibrate(data)`; the report, front and
 * plan the same as a single-process `analyze` or `autoMixedPrecision`.
 *
 * @packageDocumentation
 */

export {
  analyzeOnQueue,
  autoMixedPrecisionOnQueue,
  type QueueAmpOptions,
  type QueueAnalyzeOptions,
} from './analysis-on-queue.js';
export {
  decodeStats,
  type EncodedFeeds,
  type EncodedStats,
  type EncodedTensorStats,
  encodedStatsSchema,
  encodeStats,
} from './codecs.js';
export { calibrateOnQueue, type QueueCalibrateOptions } from './coordinator.js';
export { type DataSource, isDataSource } from './data-source.js';
export { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from './local-workers.js';
export { QueueError } from './queue-error.js';
export type { QueueRunOptions } from './queue-run.js';
export { checkRedisUrl, maskRedisUrl, type RedisTls } from './redis-connection.js';
export { type QueueWorker, RESULT_TTL_SECONDS, type RunWorkerOptions, runWorker } from './worker.js';
export { WORKER_USAGE, workerMain } from './worker-cli.js';
