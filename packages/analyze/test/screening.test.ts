import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { screenBlocks, screeningPays } from '../src/analyzer/screening.js';

/** SQNR in dB of a block whose layers add these noise powers to a unit signal. */
const sqnr = (noises: readonly number[]) => -10 * Math.log10(noises.reduce((a, b) => a + b, 0));

describe('block screening', () => {
  it('finds the worst layers alone, as measuring every layer does, when noises add', async () => {
    let cases = 0;
    let saved = 0;
    let paying = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 1e-9, max: 1, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 2, max: 16 }),
        fc.integer({ min: 1, max: 20 }),
        async (noises, blockSize, keep) => {
          const units = noises.map((_, i) => i);
          let configurations = 0;
          const blocks = await screenBlocks({
            units,
            blockSize,
            keep,
            interest: (v) => -v,
            measure: async (list) => {
              configurations += list.length;
              return list.map((b) => sqnr(b.map((u) => noises[u] as number)));
            },
          });
          // A partition of the units.
          expect(blocks.flatMap((b) => b.units).sort((a, b) => a - b)).toEqual(units);
          const alone = new Map(blocks.filter((b) => b.units.length === 1).map((b) => [b.units[0] as number, b.score]));
          // The `keep` worst by their own score are measured alone, with their own score...
          const worst = [...units].sort((a, b) => (noises[b] as number) - (noises[a] as number) || a - b).slice(0, keep);
          for (const u of worst) {
            const own = sqnr([noises[u] as number]);
            // A tie with a unit left in a block may go either way; a clear loser must not.
            if (!alone.has(u)) expect(blocks.some((b) => b.units.length > 1 && b.score <= own)).toBe(true);
            else expect(alone.get(u)).toBe(own);
          }
          // ...and every block left is a bound: each of its layers alone does at least as well.
          for (const b of blocks) for (const u of b.units) expect(sqnr([noises[u] as number])).toBeGreaterThanOrEqual(b.score);
          cases++;
          // Each split measures two halves of a block that is not a single unit: at most one split
          // per inner node of the blocks' binary trees. Near-ties with the kept units force splits
          // that their own path would not need, so a screening that pays in expectation can still
          // cost more than one configuration per unit (seen: 12 for 11 units, two noises of ~1).
          const firstBlocks = Math.ceil(units.length / blockSize);
          expect(configurations).toBeLessThanOrEqual(firstBlocks + 2 * (units.length - firstBlocks));
          if (screeningPays(units.length, blockSize, keep)) {
            paying++;
            if (configurations < units.length) saved++;
          }
        },
      ),
      { numRuns: 300 },
    );
    console.log(
      `block screening: ${cases} random models; of the ${paying} where it pays in expectation, ${saved} took fewer configurations than layers`,
    );
  });

  it('saves most of the configurations on a recognizer-sized model with a few bad layers', async () => {
    // 385 layers (the recognizer's count) with small noises and 5 much worse ones, fixed by an LCG.
    let state = 12345;
    const noises = Array.from({ length: 385 }, (_, i) => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return [40, 97, 160, 250, 371].includes(i) ? 0.05 + i * 1e-4 : 1e-6 * (1 + state / 2147483648);
    });
    let configurations = 0;
    const blocks = await screenBlocks({
      units: noises.map((_, i) => i),
      blockSize: 8,
      keep: 16,
      interest: (v) => -v,
      // As analyze() does for output SQNR: blocks 20 dB above the worst layer alone stay whole.
      negligible: (block, worst) => block - worst >= 20,
      measure: async (list) => {
        configurations += list.length;
        return list.map((b) => sqnr(b.map((u) => noises[u] as number)));
      },
    });
    const alone = new Set(blocks.filter((b) => b.units.length === 1).map((b) => b.units[0]));
    for (const bad of [40, 97, 160, 250, 371]) expect(alone.has(bad)).toBe(true);
    console.log(`block screening, 385 layers with 5 bad ones: ${configurations} configurations`);
    expect(configurations).toBeLessThan(385 / 2);
  });

  it('pays only where the worst case costs fewer configurations than one per layer', () => {
    expect(screeningPays(385, 8, 16)).toBe(true);
    expect(screeningPays(9, 8, 16)).toBe(false);
    expect(screeningPays(20, 1, 2)).toBe(false);
  });
});
