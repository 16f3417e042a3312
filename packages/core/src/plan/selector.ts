import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import type { Layer } from '../graph/graph-view.js';

/** A pattern as plain data: immer freezes state, and RegExp objects cannot be drafted. */
export type PatternData =
  | { readonly type: 'regex'; readonly source: string; readonly flags: string }
  | { readonly type: 'exact'; readonly value: string }
  | { readonly type: 'function'; readonly id: number; readonly label: string };

/** What a selector picks: layers by name, layers by op type, tensors by name, or everything. */
export interface SelectorData {
  readonly kind: 'layers' | 'ops' | 'tensors' | 'all';
  readonly patterns: readonly PatternData[];
  /** How the user wrote it, for messages and provenance: `.layers(/fc|bbox/)`. */
  readonly call: string;
}

/** A layer predicate for `.layers(fn)`. */
export type LayerPredicate = (layer: Layer) => boolean;

/** Converts user patterns to data; functions are stored apart and referenced by id. */
export function toPatterns(
  call: string,
  inputs: readonly (RegExp | string | LayerPredicate)[],
  registerFunction: (fn: LayerPredicate) => number,
): PatternData[] {
  if (inputs.length === 0)
    throw new InvalidArgumentError(`${call} needs at least one pattern.`, { hint: 'For example .layers(/conv/).' });
  return inputs.map((p) => {
    if (p instanceof RegExp) return { type: 'regex', source: p.source, flags: p.flags.replace('g', '').replace('y', '') };
    if (typeof p === 'string') {
      if (p.length === 0)
        throw new InvalidArgumentError(`${call}: an empty string matches nothing.`, { hint: 'Pass a name or a RegExp.' });
      return { type: 'exact', value: p };
    }
    if (typeof p === 'function') return { type: 'function', id: registerFunction(p), label: p.name || 'a function' };
    throw new InvalidArgumentError(`${call}: expected a RegExp, a string or a function, received ${describeValue(p)}.`);
  });
}

/** Describes a pattern the way the user wrote it. */
export function patternText(p: PatternData): string {
  if (p.type === 'regex') return `/${p.source}/${p.flags}`;
  if (p.type === 'exact') return `'${p.value}'`;
  return p.label === 'a function' ? '(layer) => …' : p.label;
}

/** Compiles a pattern into a string test. Function patterns test layers, so they need `layerOf`. */
export function compilePattern(
  p: PatternData,
  functions: ReadonlyMap<number, LayerPredicate>,
  layerOf?: (name: string) => Layer | undefined,
): (name: string) => boolean {
  if (p.type === 'regex') {
    const re = new RegExp(p.source, p.flags);
    return (s) => re.test(s);
  }
  if (p.type === 'exact') return (s) => s === p.value;
  const fn = functions.get(p.id);
  return (s) => {
    const layer = layerOf?.(s);
    return layer !== undefined && fn !== undefined && fn(layer) === true;
  };
}
