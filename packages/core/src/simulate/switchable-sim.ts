import { checkFeeds, type FeedsLike } from '../calibrate/feeds.js';
import type { Backend, BackendSession } from '../contracts/backend.js';
import type { TensorData, TensorMap } from '../contracts/tensor.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { QuantizerSpec } from '../plan/spec.js';
import type { SwitchableModel, SwitchGroup } from './switchable-model.js';

/**
 * Which variant each switch group runs: group name → variant index. Groups left out run in float.
 */
export type SwitchSetting = ReadonlyMap<string, number>;

/** Options of {@link createSwitchableSim}. */
export interface SwitchableSimOptions {
  /** The switch group of each quantizer (default: a layer's params, a layer's activations). */
  readonly groupOf?: (spec: QuantizerSpec) => string;
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
  readonly #session: Promise<BackendSession>;
  readonly #groupIndex: ReadonlyMap<string, number>;

  /** @internal Made by {@link createSwitchableSim}. */
  constructor(switchable: SwitchableModel, prepared: PreparedModel, backend: Backend) {
    this.switchable = switchable;
    this.backend = backend;
    this.#prepared = prepared;
    this.#groupIndex = new Map(switchable.groups.map((g, i) => [g.name, i]));
    this.#session = backend.createSession(switchable.model.toBytes({ inlineExternal: true }), { mode: 'simulate' });
    // A failed session surfaces on the first run; do not leave the rejection unhandled meanwhile.
    this.#session.catch(() => undefined);
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
    return (await this.#session).run(all, fetches);
  }

  /** Releases the session. */
  async release(): Promise<void> {
    await (await this.#session).release();
  }
}
