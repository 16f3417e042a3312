import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { seededRandom } from '../../../test-support/random.js';
import { loadModel, ModelLoadError } from '../src/index.js';

type Mutation = (bytes: Uint8Array, rnd: () => number) => Uint8Array;
const int = (rnd: () => number, n: number) => Math.floor(rnd() * n);

// Mutations aimed at protobuf's structure: the first kilobytes hold the graph's node list and
// headers, so most edits land there rather than deep inside weight data.
const hot = (rnd: () => number, len: number) => (rnd() < 0.7 ? int(rnd, Math.min(len, 8192)) : int(rnd, len));
const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, rnd) => b.slice(0, int(rnd, b.length)),
  flipBits: (b, rnd) => {
    const out = b.slice();
    for (let k = 1 + int(rnd, 8); k > 0; k--) {
      const i = hot(rnd, out.length);
      out[i] = (out[i] as number) ^ (1 << int(rnd, 8));
    }
    return out;
  },
  randomBytes: (b, rnd) => {
    const out = b.slice();
    const at = hot(rnd, out.length);
    for (let k = 0; k < 1 + int(rnd, 32) && at + k < out.length; k++) out[at + k] = int(rnd, 256);
    return out;
  },
  bigVarint: (b, rnd) => {
    const out = b.slice();
    const at = hot(rnd, out.length - 5);
    out.set([0xff, 0xff, 0xff, 0xff, 0x0f], at);
    return out;
  },
  deleteRange: (b, rnd) => {
    const at = hot(rnd, b.length);
    const n = 1 + int(rnd, 64);
    const out = new Uint8Array(b.length - Math.min(n, b.length - at));
    out.set(b.subarray(0, at));
    out.set(b.subarray(at + n), at);
    return out;
  },
  duplicateRange: (b, rnd) => {
    const at = hot(rnd, b.length);
    const chunk = b.subarray(at, at + 1 + int(rnd, 256));
    const out = new Uint8Array(b.length + chunk.length);
    out.set(b.subarray(0, at));
    out.set(chunk, at);
    out.set(b.subarray(at), at + chunk.length);
    return out;
  },
  garbage: (_b, rnd) => Uint8Array.from({ length: 1 + int(rnd, 4096) }, () => int(rnd, 256)),
};

describe('fuzzing the loader with mutated real models', () => {
  it('2,100 mutated or truncated models each load or fail with ModelLoadError, quickly', async () => {
    const sources = [REAL_MODELS.ocrClassifier, REAL_MODELS.sileroLegacy, REAL_MODELS.sileroV5, REAL_MODELS.ocrRecognizer].map(
      (f) => readFileSync(f),
    );
    const rnd = seededRandom(20261126);
    const names = Object.keys(MUTATIONS);
    const outcomes: Record<string, { loaded: number; rejected: number }> = {};
    let slowest = 0;
    for (let i = 0; i < 2100; i++) {
      // The big recognizer takes one case in twenty, to keep the test short.
      const source = sources[i % 20 === 0 ? 3 : i % 3] as Uint8Array;
      const name = names[i % names.length] as string;
      const bytes = (MUTATIONS[name] as Mutation)(source, rnd);
      const started = performance.now();
      const outcome = outcomes[name] ?? { loaded: 0, rejected: 0 };
      outcomes[name] = outcome;
      try {
        const model = await loadModel(bytes);
        void model.layers();
        outcome.loaded++;
      } catch (e) {
        if (!(e instanceof ModelLoadError)) throw new Error(`case ${i} (${name}) threw ${String(e)}`, { cause: e });
        expect(e.message).toMatch(/^Cannot load ONNX model <bytes>: /);
        outcome.rejected++;
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
    console.log('fuzz outcomes by mutation:', JSON.stringify(outcomes), `slowest case ${slowest.toFixed(0)} ms`);
    // Every kind of mutation was exercised, and truncation and garbage are (almost) always refused.
    expect(Object.keys(outcomes).sort()).toEqual(names.sort());
    expect(outcomes.garbage?.rejected).toBeGreaterThan(290);
    expect(outcomes.truncate?.rejected).toBeGreaterThan(280);
    expect(slowest).toBeLessThan(5000);
  });
});
