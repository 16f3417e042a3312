import type { MessagePort } from 'node:worker_threads';
import type { CalibrationStats } from '../contracts/calibration.js';
import type { Feeds } from '../contracts/tensor.js';
import type { StatisticsJob } from './statistics-job.js';

/** What every calibration thread starts with (piscina's `workerData`). */
export interface ThreadWorkerData {
  /** The job without its model, which comes as a shared buffer (one copy for all threads). */
  readonly job: Omit<StatisticsJob, 'model'>;
  readonly model: SharedArrayBuffer;
  /** Threads inside each session, so that the workers together use the cores once. */
  readonly intraOpThreads: number;
}

/** One thread's task: a port to pull samples over. */
export interface ThreadTask {
  readonly port: MessagePort;
}

/** Thread → main thread: send the next sample; one sample is done. */
export type ThreadMessage = { readonly type: 'next' } | { readonly type: 'done' };

/** Main thread → thread: a sample (with its index in the whole data), or the end of the data. */
export type ThreadReply = { readonly type: 'sample'; readonly index: number; readonly feeds: Feeds } | { readonly type: 'end' };

/** What a thread's task returns: its statistics, or its error as plain data. */
export type ThreadResult =
  | { readonly stats: CalibrationStats }
  | {
      readonly error: {
        /** The index of the sample it was working on (-1 before the first). */
        readonly index: number;
        readonly code: string | undefined;
        readonly message: string;
        readonly hint: string | undefined;
      };
    };
