import type { QuantPlanView, SkippedTensor } from '../contracts/plan.js';
import type { QuantizerField, QuantizerSpec } from '../contracts/spec.js';

export type { SkippedTensor } from '../contracts/plan.js';

/**
 * The resolved quantization plan: one row per quantizer with its settings and, for each field,
 * the call that set it. Computed from the model and the builder's state without running anything.
 */
export class QuantPlan implements QuantPlanView {
  readonly quantizers: readonly QuantizerSpec[];
  /** Tensors that get no quantizer of their own, and why (data movement, supergroup, not float…). */
  readonly skipped: readonly SkippedTensor[];
  readonly #byId: ReadonlyMap<string, QuantizerSpec>;

  constructor(quantizers: readonly QuantizerSpec[], skipped: readonly SkippedTensor[] = []) {
    this.quantizers = Object.freeze([...quantizers]);
    this.skipped = Object.freeze([...skipped]);
    this.#byId = new Map(quantizers.map((q) => [q.id, q]));
  }

  /** The quantizer with this id, or `undefined`. */
  get(id: string): QuantizerSpec | undefined {
    return this.#byId.get(id);
  }

  /** Quantizers of one layer. */
  forLayer(layer: string): QuantizerSpec[] {
    return this.quantizers.filter((q) => q.layer === layer);
  }

  /** Enabled quantizers only. */
  get enabled(): QuantizerSpec[] {
    return this.quantizers.filter((q) => q.enabled);
  }

  /** Plain data for JSON (`.plan.json`). */
  toJSON(): { quantizers: QuantizerSpec[]; skipped: SkippedTensor[] } {
    return { quantizers: [...this.quantizers], skipped: [...this.skipped] };
  }

  /**
   * A readable table: one line per quantizer with its settings; a `*` marks fields set by
   * something other than the defaults, and the last column says which call set them. The
   * `per-channel` column gives a param's channel axis (`axis 0`, the default for Conv, Gemm, MatMul
   * and ConvTranspose weights) or `per-tensor`.
   */
  toTable(options: { onlyOverridden?: boolean } = {}): string {
    const rows = this.quantizers
      .filter((q) => !options.onlyOverridden || Object.values(q.provenance).some((p) => p !== 'defaults'))
      .map((q) => {
        const mark = (f: QuantizerField) => (q.provenance[f] && q.provenance[f] !== 'defaults' ? '*' : '');
        const bits = q.dtype === 'float' ? `fp${q.bitwidth}` : `${q.bitwidth}`;
        const sym = q.symmetric ? (q.strictSymmetric ? 'strict' : 'sym') : 'asym';
        // Post-training steps (q.steps) show beside the calls that set fields.
        const setBy = [...new Set([...Object.values(q.provenance).filter((p) => p !== 'defaults'), ...(q.steps ?? [])])].join(
          ', ',
        );
        return [
          q.layer ?? '-',
          q.kind,
          q.tensor,
          q.enabled ? `${bits}${mark('bitwidth') || mark('dtype')}` : 'off',
          `${sym}${mark('symmetric')}`,
          `${q.scheme}${mark('scheme')}`,
          `${q.kind !== 'param' ? '-' : q.perChannelAxis === undefined ? 'per-tensor' : `axis ${q.perChannelAxis}`}${mark('perChannelAxis')}`,
          setBy || 'defaults',
        ];
      });
    const header = ['layer', 'kind', 'tensor', 'bits', 'symmetry', 'scheme', 'per-channel', 'set by'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: readonly string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
    // Bodies of If/Loop/Scan nodes are not quantized yet: say so under the table.
    const bodies = this.skipped.flatMap((s) => (s.subgraph ? [s] : []));
    if (bodies.length > 0)
      table.push(
        '',
        `Not quantized: ${bodies.length} If/Loop/Scan bod${bodies.length === 1 ? 'y' : 'ies'} (quantsim does not quantize inside subgraphs yet; their tensors stay float):`,
        ...bodies.map((s) => `  ${s.tensor} (${s.subgraph?.nodes} nodes)`),
      );
    return table.join('\n');
  }
}
