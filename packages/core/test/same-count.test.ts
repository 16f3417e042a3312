import { describe, expect, it } from 'vitest';
import { sameCountGroups } from '../src/calibrate/same-count.js';
import { ModelBuilder } from '../src/index.js';

describe('sameCountGroups (one Shape per group in the statistics graph)', () => {
  it('groups through same-shape ops and broadcasts with one-element constants, and nothing else', () => {
    const b = new ModelBuilder({ opset: 13 });
    b.input('x', 'float32', ['n', 4]);
    b.input('fed', 'float32', [1]);
    b.initializer('three', [1], [3]);
    b.initializer('fed', [1], [1]); // also a graph input: it can be fed another shape
    b.initializer('row', [4], [1, 2, 3, 4]);
    b.constant('one', [1, 1, 1], [1]);
    b.node('Relu', ['x'], { outputs: ['relu'] });
    b.node('Add', ['relu', 'three'], { outputs: ['plus'] });
    b.node('Clip', ['plus'], { outputs: ['clip'] });
    b.node('Mul', ['relu', 'clip'], { outputs: ['swish'] });
    b.node('Div', ['swish', 'one'], { outputs: ['scaled'] }); // rank 3 from rank 2: same count
    b.node('Add', ['scaled', 'row'], { outputs: ['rowed'] }); // [4] may broadcast [n, 1]
    b.node('Add', ['scaled', 'fed'], { outputs: ['fedsum'] });
    b.node('MatMul', ['scaled', 'row'], { outputs: ['mm'] });
    b.node('Sigmoid', ['mm'], { outputs: ['sig'] });
    for (const o of ['rowed', 'fedsum', 'sig']) b.output(o);
    const groups = sameCountGroups(b.buildProto().graph as never);
    for (const t of ['relu', 'plus', 'clip', 'swish', 'scaled']) expect(groups.get(t), t).toBe('x');
    for (const t of ['rowed', 'fedsum', 'mm']) expect(groups.get(t), t).toBeUndefined();
    expect(groups.get('sig')).toBe('mm');
  });
});
