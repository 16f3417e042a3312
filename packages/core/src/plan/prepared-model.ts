import type { GraphView } from '../graph/graph-view.js';
import type { Model } from '../model/model.js';
import { foldBatchNorms } from '../transform/fold-batchnorm.js';
import { DEFAULT_SUPERGROUPS, type Placement, placeQuantizers } from './placement.js';
import type { QuantPlan } from './plan.js';

/** A model ready for planning: BatchNorms folded (if asked) and quantizers placed. */
export interface PreparedModel {
  /** The model as loaded. */
  readonly original: Model;
  /** The model that is simulated and exported: the original with BatchNorms folded. */
  readonly model: Model;
  readonly graph: GraphView;
  readonly placement: Placement;
  /** Folded BatchNormalization name → the layer that absorbed it. */
  readonly foldedInto: ReadonlyMap<string, string>;
}

/**
 * A resolved plan and the model it was resolved on: what the stages after planning read
 * (statistics requests, calibration, encodings, simulation, export).
 */
export interface PlannedModel {
  readonly plan: QuantPlan;
  readonly prepared: PreparedModel;
}

/**
 * Caches prepared models per model and settings, shared by a builder and its forks: folding
 * and placement run once however many plans are made.
 */
export class PreparedModelCache {
  readonly #cache = new WeakMap<Model, Map<string, PreparedModel>>();

  get(model: Model, fold: boolean, extraSupergroups: readonly (readonly string[])[]): PreparedModel {
    const key = JSON.stringify([fold, extraSupergroups]);
    let perModel = this.#cache.get(model);
    if (!perModel) {
      perModel = new Map();
      this.#cache.set(model, perModel);
    }
    const hit = perModel.get(key);
    if (hit) return hit;
    const folded = fold ? foldBatchNorms(model) : { model, folded: [] };
    const graph = folded.model.graph;
    const prepared: PreparedModel = {
      original: model,
      model: folded.model,
      graph,
      placement: placeQuantizers(graph, [...DEFAULT_SUPERGROUPS, ...extraSupergroups]),
      foldedInto: new Map(folded.folded.map((f) => [f.batchNorm, f.layer])),
    };
    perModel.set(key, prepared);
    return prepared;
  }
}
