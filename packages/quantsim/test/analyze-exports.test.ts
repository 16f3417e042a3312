import * as analyze from '@quantsim/analyze';
import { describe, expect, it } from 'vitest';
import * as quantsim from '../src/index.js';

describe('quantsim re-exports the quant analyzer', () => {
  it('exposes every runtime export of @quantsim/analyze as the same value', () => {
    const umbrella: Record<string, unknown> = { ...quantsim };
    const moved = Object.entries(analyze);
    expect(moved.map(([name]) => name)).toContain('analyzeSensitivity');
    for (const [name, value] of moved) expect(umbrella[name], name).toBe(value);
  });
});
