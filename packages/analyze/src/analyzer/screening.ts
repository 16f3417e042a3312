/*
 * Block screening (adaptive group testing) for the per-layer analysis.
 *
 * Quantizing a block of layers together adds (roughly) the noise of each, so a block's score
 * bounds every member's: a layer alone is at least as good as any block it is in. Measuring
 * neighbouring layers in blocks, and splitting only the blocks that come out worst, finds the
 * worst `keep` layers exactly with far fewer configurations than one per layer; every other
 * layer keeps its block's score as a bound. The same holds for "everything but this block":
 * leaving a block out helps at least as much as leaving out one of its layers.
 */

/** Units measured together, with the one score they got. */
export interface ScreenedBlock<U> {
  readonly units: readonly U[];
  readonly score: number;
}

/** What {@link screenBlocks} needs. */
export interface ScreeningOptions<U> {
  /** Units in graph order: neighbours share blocks. */
  readonly units: readonly U[];
  /** Units per first block. */
  readonly blockSize: number;
  /** How many units must end up measured alone: the `keep` of largest `interest`. */
  readonly keep: number;
  /** Larger is what the screening looks for (the worst alone; the most helped when left out). */
  readonly interest: (score: number) => number;
  /** Scores of blocks, in order; called with every block of one round at once. */
  readonly measure: (blocks: readonly (readonly U[])[]) => Promise<number[]>;
  /**
   * Whether a block's score is too small to matter next to the most interesting unit measured
   * alone (`worst`): such a block is not split, even among the first `keep`. Without it, a
   * long tail of about equally small noises is split down to single units, since a block of
   * them always bounds worse than one of them (385 layers, 5 bad: 721 configurations).
   */
  readonly negligible?: (score: number, worst: number) => boolean;
}

/**
 * Whether screening is expected to cost fewer configurations than one per unit: the first blocks,
 * then two halves per split, `log2(blockSize)` splits for each unit kept. Not a bound: blocks
 * whose scores come near the kept units' must be split too (when many layers are about equally
 * bad, screening measures most of them alone, after their blocks: up to about twice one per unit).
 */
export function screeningPays(units: number, blockSize: number, keep: number): boolean {
  if (blockSize < 2 || units <= blockSize) return false;
  return Math.ceil(units / blockSize) + 2 * keep * Math.ceil(Math.log2(blockSize)) < units;
}

/**
 * Measures the units in blocks of `blockSize`, then repeatedly splits in halves every block
 * that ranks among the first `keep` by interest (and is not `negligible`), until those first
 * `keep` are single units or negligible blocks:
 * each of them is then more interesting than every block left (and so, by the bound, than every
 * unit in one). Returns the final blocks, a partition of the units; single units are exact.
 */
export async function screenBlocks<U>(options: ScreeningOptions<U>): Promise<ScreenedBlock<U>[]> {
  const { units, interest } = options;
  const size = Math.max(1, Math.floor(options.blockSize));
  const first: U[][] = [];
  for (let i = 0; i < units.length; i += size) first.push(units.slice(i, i + size));
  const scores = await options.measure(first);
  // `order` keeps graph order among ties, so that results do not depend on the sort's whims.
  let blocks = first.map((u, i) => ({ units: u, score: scores[i] as number, order: i }));
  let order = blocks.length;
  for (;;) {
    const ranked = [...blocks].sort((a, b) => rank(interest(b.score)) - rank(interest(a.score)) || a.order - b.order);
    const worst = ranked.find((b) => b.units.length === 1);
    const negligible = options.negligible;
    const split = ranked
      .slice(0, options.keep)
      .filter((b) => b.units.length > 1 && !(worst && negligible?.(b.score, worst.score)));
    if (split.length === 0) break;
    const halves = split.flatMap((b) => {
      const mid = Math.ceil(b.units.length / 2);
      return [b.units.slice(0, mid), b.units.slice(mid)];
    });
    const halfScores = await options.measure(halves);
    const replaced = new Set(split);
    const next = halves.map((u, i) => ({ units: u, score: halfScores[i] as number, order: order++ }));
    blocks = [...blocks.filter((b) => !replaced.has(b)), ...next];
  }
  return blocks.map(({ units: u, score }) => ({ units: u, score }));
}

/** NaN ranks last. */
function rank(v: number): number {
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
}
