import os from 'node:os';
import { Piscina } from 'piscina';
import { checkFeeds, type FeedsLike } from '../calibrate/feeds.js';
import { fitWorkers, type ThreadPoolReport, workerCost } from '../calibrate/worker-memory.js';
import type { Backend, BackendSession } from '../contracts/backend.js';
import type { TensorData, TensorMap } from '../contracts/tensor.js';
import { QUANTSIM_ERROR_CODES, type QuantsimErrorCode } from '../errors/codes.js';
import { InvalidArgumentError, messageWithoutHint, QuantsimError } from '../errors/quantsim-error.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { QuantizerSpec } from '../plan/spec.js';
import type { SwitchableModel, SwitchGroup } from './switchable-model.js';
import type { SwitchableResult, SwitchableTask, SwitchableWorkerData } from './switchable-protocol.js';

/**
 * Which variant each switch group runs: group name → variant index. Groups left out run in float.
 */
export type SwitchSetting = ReadonlyMap<string, number>;

/** Options of {@link createSwitchableSim}. */
export interface SwitchableSimOptions {
  /** The switch group of each quantizer (default: a layer's params, a layer's activations). */
  readonly groupOf?: (spec: QuantizerSpec) => string;
  /**
   * Worker threads, each with its own session of the switchable model, over which concurrent
   * `run` calls are shared (`'auto'`: one per core; 1 or absent: this thread's session). The
   * backend needs a `recipe` for threads to make it again. Outputs are the same as in one thread:
   * every session runs the same model on the same kernels. The first run goes to one thread alone;
   * the memory it added (thread, session, arenas) is taken as one thread's cost, and further
   * threads start only while they fit in 80% of free memory, with a warning when that caps them.
   */
  readonly workers?: number | 'auto';
  /** Called once the number of threads is settled, after the first run (for logs and benchmarks). */
  readonly onWorkers?: (report: ThreadPoolReport) => void;
  /** Where the warning of a memory cap goes (default `console.warn`). */
  readonly warn?: (message: string) => void;
}

/** Evaluation threads: where their entry is, how many, and where their report goes. */
export interface SwitchableThreads {
  readonly workers: number;
  /** URL of the threads' entry (the builder's, which makes the backend from its recipe). */
  readonly workerModule: string;
  readonly onWorkers?: (report: ThreadPoolReport) => void;
  readonly warn?: (message: string) => void;
}

/**
 * Several calibrated simulations of one model (for example W8A8 and W16A16) in one ONNX Runtime
 * session: any mix of them, per switch group, runs with different feeds and no new session.
 *
 * ### Examples
 * ```ts
 * const base = quant('model.onnx');
 * const stats = await base.collectStats(calibration);
 * const w8a8 = await base.fromStats(stats);
 * const w16a16 = await base.activations(16).params(16).fromStats(stats);
 * const switchable = await createSwitchableSim([{ name: 'W8A8', sim: w8a8 }, { name: 'W16A16', sim: w16a16 }]);
 * const all8 = switchable.setting(() => 0);
 * const onlyFirst16 = switchable.setting((g) => (g.unit === 'conv1' ? 1 : 0));
 * const out = await switchable.run(feeds, onlyFirst16);
 * ```
 */
export class SwitchableSim {
  /** The model with its switches. */
  readonly switchable: SwitchableModel;
  readonly backend: Backend;
  readonly #prepared: PreparedModel;
  readonly #session: Promise<BackendSession> | undefined;
  readonly #pool: Piscina | undefined;
  readonly #threads: SwitchableThreads | undefined;
  /** Runs that may be in the threads at once: 1 until the first run has measured a thread's cost. */
  #slots = 1;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];
  #report: ThreadPoolReport | undefined;
  #first: { rssBefore: number } | undefined;
  readonly #groupIndex: ReadonlyMap<string, number>;

  /** @internal Made by {@link createSwitchableSim}. */
  constructor(switchable: SwitchableModel, prepared: PreparedModel, backend: Backend, threads?: SwitchableThreads) {
    this.switchable = switchable;
    this.backend = backend;
    this.#prepared = prepared;
    this.#groupIndex = new Map(switchable.groups.map((g, i) => [g.name, i]));
    const bytes = switchable.model.toBytes({ inlineExternal: true });
    const workers = threads?.workers ?? 1;
    if (workers > 1) {
      if (!backend.recipe)
        throw new InvalidArgumentError(
          `createSwitchableSim({ workers: ${workers} }): backend '${backend.name}' has no recipe, so worker threads cannot make it.`,
          { hint: 'Give the backend a `recipe` (module, exportName, options), or leave out `workers`.' },
        );
      const model = new SharedArrayBuffer(bytes.byteLength);
      new Uint8Array(model).set(bytes);
      const workerData: SwitchableWorkerData = {
        model,
        recipe: backend.recipe,
        intraOpThreads: Math.max(1, Math.floor(os.availableParallelism() / workers)),
      };
      this.#threads = threads;
      // No thread until the first run, so that its cost can be measured; none stops when idle.
      this.#pool = new Piscina({
        filename: threads?.workerModule,
        workerData,
        minThreads: 0,
        maxThreads: workers,
        idleTimeout: Number.POSITIVE_INFINITY,
        // From sources, threads resolve workspace packages to their sources as this process does.
        execArgv: import.meta.url.endsWith('.ts') ? ['--conditions=@quantsim/source'] : [],
      });
    } else {
      this.#session = backend.createSession(bytes, { mode: 'simulate' });
      // A failed session surfaces on the first run; do not leave the rejection unhandled meanwhile.
      this.#session.catch(() => undefined);
    }
  }

  /**
   * How many runs are worth issuing at once: the worker threads asked for (once the first run has
   * measured a thread's memory, those that fit in free memory), or 1.
   */
  get concurrency(): number {
    return this.#report?.used ?? this.#threads?.workers ?? 1;
  }

  /** The switch groups, in plan order. */
  get groups(): readonly SwitchGroup[] {
    return this.switchable.groups;
  }

  /** The variant names, by index. */
  get variants(): readonly string[] {
    return this.switchable.variants;
  }

  /** A setting from a function of each group: a variant index, or `undefined` for float. */
  setting(choose: (group: SwitchGroup) => number | undefined): SwitchSetting {
    const out = new Map<string, number>();
    for (const g of this.groups) {
      const v = choose(g);
      if (v !== undefined) out.set(g.name, v);
    }
    return out;
  }

  /**
   * Runs one sample with the given setting.
   * @throws InvalidArgumentError for a group or variant the model does not have.
   */
  async run(feeds: FeedsLike, setting: SwitchSetting, fetches?: readonly string[]): Promise<TensorMap> {
    const checked = checkFeeds(feeds, this.#prepared.graph, 'switchable run');
    const vectors = this.switchable.switchInputs.map(() => new Uint8Array(this.groups.length));
    for (const [name, v] of setting) {
      const g = this.#groupIndex.get(name);
      if (g === undefined)
        throw new InvalidArgumentError(`No switch group '${name}'.`, {
          hint: `Groups are named like '${this.groups[0]?.name ?? '<layer>|params'}'; list them with switchable.groups.`,
        });
      const vector = vectors[v];
      if (!vector || !Number.isInteger(v))
        throw new InvalidArgumentError(
          `Group '${name}': no variant ${v}; there are ${vectors.length} (${this.variants.join(', ')}).`,
        );
      vector[g] = 1;
    }
    const all: Record<string, TensorData> = { ...checked };
    for (const [v, input] of this.switchable.switchInputs.entries())
      all[input] = { type: 'bool', data: vectors[v] as Uint8Array, dims: [this.groups.length] };
    if (!this.#pool) return (await (this.#session as Promise<BackendSession>)).run(all, fetches);
    const task: SwitchableTask = { feeds: all, ...(fetches ? { fetches } : {}) };
    const result = await this.#runOnThread(task, this.#pool);
    if ('outputs' in result) return result.outputs;
    const e = result.error;
    const message = messageWithoutHint(e.message, e.hint);
    const code: QuantsimErrorCode = e.code && e.code in QUANTSIM_ERROR_CODES ? (e.code as QuantsimErrorCode) : 'BACKEND';
    throw new QuantsimError(code, `An evaluation thread failed: ${message}`, {
      ...(e.hint ? { hint: e.hint } : {}),
    });
  }

  /** One run on whichever thread is free, at most `#slots` at once. */
  async #runOnThread(task: SwitchableTask, pool: Piscina): Promise<SwitchableResult> {
    if (this.#busy < this.#slots) this.#busy++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // a finished run hands its slot over
    const measuring = this.#first === undefined;
    if (measuring) this.#first = { rssBefore: process.memoryUsage.rss() };
    try {
      return (await pool.run(task)) as SwitchableResult;
    } finally {
      if (measuring) this.#settleThreads();
      const next = this.#busy <= this.#slots ? this.#waiting.shift() : undefined;
      if (next) next();
      else this.#busy--;
    }
  }

  /** After the first run: how many threads fit in free memory; the waiting runs may then go. */
  #settleThreads(): void {
    const threads = this.#threads as SwitchableThreads;
    const perThread = workerCost((this.#first as { rssBefore: number }).rssBefore);
    this.#report = fitWorkers(
      threads.workers,
      perThread,
      `createSwitchableSim({ workers: ${threads.workers} }) (evaluation threads)`,
      threads.warn ?? ((m) => console.warn(m)),
    );
    this.#slots = this.#report.used;
    threads.onWorkers?.(this.#report);
    // The first run's own slot is handed on in its `finally`; the others open here.
    while (this.#busy < this.#slots && this.#waiting.length > 0) {
      this.#busy++;
      this.#waiting.shift()?.();
    }
  }

  /** Releases the session, or the worker threads and theirs. */
  async release(): Promise<void> {
    if (this.#pool) await this.#pool.destroy();
    else await (await (this.#session as Promise<BackendSession>)).release();
  }
}
