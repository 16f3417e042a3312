import { describe, expect, it } from 'vitest';
import {
  createQuant,
  ModelBuilder,
  type PlannedModel,
  type Plugin,
  PluginSet,
  PreparedModelCache,
  type QuantizerSpec,
  statisticsRequests,
} from '../src/index.js';

function tinyModel() {
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 4]);
  const w = b.initializer('fc.weight', [4, 2], new Float32Array(8).fill(0.5));
  b.output(b.node('MatMul', [x, w], { name: 'fc' }), 'float32', [1, 2]);
  return b.build();
}

/** A plugin with one plan rule that records `mark` when it runs. */
function recorder(name: string, mark: string, log: string[]): Plugin {
  return {
    name,
    rules: [
      {
        name: `${name}-rule`,
        phases: ['plan'],
        check: () => {
          log.push(mark);
          return [];
        },
      },
    ],
  };
}

describe('the builder state', () => {
  it('is frozen, deeply, from quant(model) on: not only after the first change', () => {
    const state = createQuant()(tinyModel()).state;
    expect(Object.isFrozen(state)).toBe(true);
    expect(Object.isFrozen(state.defaults)).toBe(true);
    expect(Object.isFrozen(state.backend)).toBe(true);
    expect(Object.isFrozen(state.overrides)).toBe(true);
    expect(() => {
      (state.overrides as unknown[]).push({});
    }).toThrow(TypeError);
  });
});

describe('plugins of the same name', () => {
  it('a later .use() replaces the earlier plugin in its place, so its rules run once, in the old order', async () => {
    const log: string[] = [];
    const quant = createQuant({ plugins: [recorder('a', 'a1', log), recorder('b', 'b', log)] });
    await quant(tinyModel())
      .use(recorder('a', 'a2', log))
      .plan();
    expect(log).toEqual(['a2', 'b']);
  });

  it('a duplicate in the set-up list replaces the earlier one too', () => {
    const log: string[] = [];
    const set = new PluginSet([recorder('a', 'old', log), recorder('b', 'b', log), recorder('a', 'new', log)]);
    expect(set.plugins.map((p) => p.name)).toEqual(['a', 'b']);
    set.check('plan', {} as never, () => {});
    expect(log).toEqual(['new', 'b']);
  });
});

describe('stage functions take public types', () => {
  it('statisticsRequests reads only the plan and the prepared model', async () => {
    const model = tinyModel();
    const planned: PlannedModel = {
      plan: await createQuant()(model).plan(),
      prepared: new PreparedModelCache().get(model, true, []),
    };
    const requests = statisticsRequests(planned, new Map());
    const activations = planned.plan.quantizers.filter((q: QuantizerSpec) => q.enabled && q.kind === 'activation');
    expect(requests.map((r) => r.tensor).sort()).toEqual([...new Set(activations.map((q) => q.tensor))].sort());
  });
});
