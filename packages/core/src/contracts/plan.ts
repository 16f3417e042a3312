import type { QuantizerSpec } from './spec.js';

/** A quantizer the planner decided not to place, with the reason (for reports). */
export interface SkippedTensor {
  readonly tensor: string;
  readonly reason: string;
  /**
   * Set for an If/Loop/Scan body that is not quantized (`tensor` is `<node>/<attribute>`): its
   * nodes, nested bodies included. Only bodies of main-graph nodes are listed.
   */
  readonly subgraph?: { readonly owner: string; readonly attribute: string; readonly nodes: number };
}

/**
 * A read-only view of the resolved quantization plan: one row per quantizer with its settings
 * and provenance. Core's `QuantPlan` implements it; rules and stage functions read plans through it.
 */
export interface QuantPlanView {
  readonly quantizers: readonly QuantizerSpec[];
  /** Tensors that get no quantizer of their own, and why. */
  readonly skipped: readonly SkippedTensor[];
  /** The quantizer with this id, or `undefined`. */
  get(id: string): QuantizerSpec | undefined;
  /** Quantizers of one layer. */
  forLayer(layer: string): QuantizerSpec[];
  /** Enabled quantizers only. */
  readonly enabled: QuantizerSpec[];
}
