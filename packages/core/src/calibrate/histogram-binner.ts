import { Worker } from 'node:worker_threads';
import type { TensorStats } from '../contracts/stats.js';
import { CalibrationError } from '../errors/calibration-error.js';
import { binWithDerived, type DerivedValues } from './derived-values.js';
import { mergeTensorStats } from './merge-stats.js';
import { createStatsAccumulator, type KnownRange, type StatsAccumulator } from './stats.js';

/** A message to the binning thread. */
export type BinnerRequest =
  | {
      readonly type: 'add';
      readonly tensor: string;
      readonly sample: number;
      readonly values: Float32Array;
      /** The values' exact range, when the backend reduced them and they are all finite. */
      readonly range?: KnownRange;
      /** Tensors whose values are computed from these (see {@link binWithDerived}). */
      readonly derived: readonly DerivedValues[];
      /** Values to bin, these and the derived tensors' together (the backlog it adds). */
      readonly work: number;
    }
  | { readonly type: 'finish' };

/** A reply of the binning thread. */
export type BinnerReply =
  | {
      readonly type: 'added';
      readonly tensor: string;
      readonly sample: number;
      /** The request's `work`. */
      readonly elements: number;
      /** The first tensor (the request's or a derived one) that held NaN or infinite values. */
      readonly nonFinite?: string;
    }
  | { readonly type: 'stats'; readonly tensors: Readonly<Record<string, TensorStats>> };

/**
 * Samples whose histogram values, all tensors together, hold fewer elements than this are binned
 * in this thread alone: a thread would cost more to start than it saves.
 */
const MIN_ELEMENTS = 1 << 20;

/** The entry of the binning thread: from sources (tests, tsx) a boot file that registers tsx. */
const BINNER_WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './histogram-binner-worker-boot.mjs' : './histogram-binner-worker.js',
  import.meta.url,
);

/** A non-finite value found by a histogram accumulator: which tensor, which sample. */
export interface NonFiniteHit {
  readonly tensor: string;
  readonly sample: number;
}

/**
 * Histograms of whole activation tensors, binned partly on a second thread while this one runs
 * the next sample: ONNX Runtime's `run` and the copy of its outputs take this thread, binning is
 * JavaScript, so the two overlap on two cores. Each tensor has an accumulator here and one on the
 * thread; a sample's values go to the thread while its backlog is under one sample's worth (they
 * are transferred, not copied), and are binned here otherwise, so that both threads stay busy and
 * memory holds at most one extra sample. The two accumulators merge exactly at the end
 * ({@link mergeTensorStats}), so the statistics do not depend on which thread binned what.
 */
export class HistogramBinner {
  readonly #local = new Map<string, StatsAccumulator>();
  readonly #offload: boolean;
  #worker: Worker | undefined;
  #pending = 0;
  #limit = 0;
  #offloaded = 0;
  #failure: Error | undefined;
  #firstNonFinite: NonFiniteHit | undefined;
  #finished: ((tensors: Readonly<Record<string, TensorStats>>) => void) | undefined;

  /** `offload: false` bins everything in this thread (for code already on a worker thread). */
  constructor(offload: boolean) {
    this.#offload = offload;
  }

  /** Values sent to the binning thread so far, derived ones included (for tests and logs). */
  get offloaded(): number {
    return this.#offloaded;
  }

  /** The first non-finite value the thread has reported (this thread's own `add` returns). */
  get nonFiniteSeen(): NonFiniteHit | undefined {
    return this.#firstNonFinite;
  }

  /**
   * Bins one sample's values of `tensor`, and those of the tensors `derived` computes from them.
   * `sampleElements` is the size of all the sample's histogram values, derived ones included (for
   * the thread's budget). Returns the first tensor found here to hold NaN or infinite values
   * (undefined when the values went to the thread, which reports them through
   * {@link nonFiniteSeen}). The values must not be used afterwards: they may be transferred to
   * the thread. `range`, the exact extremes of values known to be all finite, lets them bin in
   * one unchecked pass.
   */
  add(
    tensor: string,
    values: Float32Array,
    sample: number,
    sampleElements: number,
    range?: KnownRange,
    derived: readonly DerivedValues[] = [],
  ): string | undefined {
    if (this.#failure) throw this.#failure;
    const work = values.length * (1 + derived.length);
    if (this.#offload && sampleElements >= MIN_ELEMENTS) {
      this.#limit = Math.max(this.#limit, sampleElements);
      if (this.#pending + work <= this.#limit) {
        const worker = this.#thread();
        const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
        const sent = whole ? values : values.slice();
        this.#pending += work;
        this.#offloaded += work;
        const request: BinnerRequest = { type: 'add', tensor, sample, values: sent, derived, work, ...(range ? { range } : {}) };
        worker.postMessage(request, [sent.buffer as ArrayBuffer]);
        return undefined;
      }
    }
    return binWithDerived(this.#accumulator, tensor, values, range, derived);
  }

  readonly #accumulator = (tensor: string): StatsAccumulator => {
    let acc = this.#local.get(tensor);
    if (!acc) {
      acc = createStatsAccumulator({ histogram: true });
      this.#local.set(tensor, acc);
    }
    return acc;
  };

  /**
   * Lets the thread's acknowledgements in (they are events, and a run of the session may end
   * without one passing), so that the next sample is shared by its true backlog.
   */
  async settle(): Promise<void> {
    if (this.#worker) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Every tensor's statistics, this thread's and the binning thread's merged; ends the thread. */
  async finish(): Promise<Map<string, TensorStats>> {
    const out = new Map<string, TensorStats>();
    for (const [t, acc] of this.#local) out.set(t, acc.toStats());
    const worker = this.#worker;
    if (!worker) return out;
    try {
      // While its histograms are awaited, the thread keeps the process alive (it is unref'd
      // otherwise), and a thread that fails or exits ends the wait with an error: never a hang.
      worker.ref();
      const remote = await new Promise<Readonly<Record<string, TensorStats>>>((resolve, reject) => {
        this.#finished = resolve;
        worker.once('error', () => reject(this.#failure));
        worker.once('exit', (code) =>
          reject(
            new CalibrationError(
              'CALIBRATION',
              `The histogram binning thread exited (code ${code}) before it returned the histograms.`,
              'Report this as a bug; calibrate({ workers: 2 }) bins on calibration threads instead.',
            ),
          ),
        );
        worker.postMessage({ type: 'finish' } satisfies BinnerRequest);
      });
      if (this.#failure) throw this.#failure;
      for (const [t, s] of Object.entries(remote)) {
        const mine = out.get(t);
        out.set(t, mine ? mergeTensorStats(mine, s) : s);
      }
      return out;
    } finally {
      await this.release();
    }
  }

  /** Stops the thread, if one was started (idempotent). */
  async release(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(BINNER_WORKER);
    // The thread must not keep the process alive after a failed calibration forgets it.
    worker.unref();
    worker.on('message', (reply: BinnerReply) => {
      if (reply.type === 'added') {
        this.#pending -= reply.elements;
        if (reply.nonFinite !== undefined && !this.#firstNonFinite)
          this.#firstNonFinite = { tensor: reply.nonFinite, sample: reply.sample };
      } else this.#finished?.(reply.tensors);
    });
    worker.on('error', (e) => {
      this.#failure = new CalibrationError(
        'CALIBRATION',
        `The histogram binning thread failed: ${e instanceof Error ? e.message : String(e)}`,
        'Report this as a bug; calibrate({ workers: 2 }) bins on calibration threads instead.',
      );
    });
    this.#worker = worker;
    return worker;
  }
}
