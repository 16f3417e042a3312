import type { Model, QuantBuilder } from '@quantsim/core';
import { QuantConfigError } from './quant-config-error.js';
import type { QuantConfigFile, QuantOverrideEntry } from './quant-config-schema.js';

/** A config (from a file or `--set` values) and where it came from, for messages. */
export interface SourcedOverrides {
  /** The file, or `--set '…'`. */
  readonly source: string;
  /** The JSON path of the list, `overrides` for files, empty for `--set`. */
  readonly path: string;
  readonly overrides: readonly QuantOverrideEntry[];
}

const list = (v: string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : [...v];

/**
 * Checks that every selector of the overrides matches something in the model, so that a typo
 * is reported against the file and JSON path that hold it.
 * @throws QuantConfigError naming the source, the JSON path, the pattern and some names of the model.
 */
export function checkSelectors(model: Model, modelName: string, sourced: SourcedOverrides): void {
  const layers = model.layers();
  const layerNames = layers.map((l) => l.name);
  const opTypes = [...new Set(layers.map((l) => l.opType))];
  const tensorNames = [...model.graph.tensors.keys()];
  sourced.overrides.forEach((o, i) => {
    const at = (key: string, j: number | undefined) =>
      [sourced.path ? `${sourced.path}[${i}]` : '', key, j === undefined ? '' : `[${j}]`]
        .filter(Boolean)
        .join('.')
        .replace('.[', '[');
    const check = (
      key: 'layers' | 'ops' | 'tensors',
      names: readonly string[],
      what: string,
      test: (p: string, n: string) => boolean,
    ) => {
      const value = o[key];
      list(value).forEach((p, j) => {
        if (names.some((n) => test(p, n))) return;
        const examples = names
          .slice(0, 4)
          .map((n) => `'${n}'`)
          .join(', ');
        throw new QuantConfigError(
          sourced.source,
          at(key, Array.isArray(value) ? j : undefined),
          `${key === 'ops' ? `'${p}'` : `/${p}/`} matches no ${what} of ${modelName}`,
          `The model has ${names.length} ${what}s, for example ${examples}; list them with \`quantsim inspect ${modelName}\`.`,
        );
      });
    };
    check('layers', layerNames, 'layer', (p, n) => new RegExp(p).test(n));
    check('ops', opTypes, 'op type', (p, n) => p === n);
    check('tensors', tensorNames, 'tensor', (p, n) => new RegExp(p).test(n));
  });
}

/**
 * Applies a config's `defaults` to a builder.
 */
export function applyDefaults(builder: QuantBuilder, config: QuantConfigFile): QuantBuilder {
  return config.defaults ? builder.defaults(config.defaults) : builder;
}

/**
 * Applies overrides to a builder in order, each as its selector followed by its modifiers:
 * scheme, symmetric, perChannel, activations, params, inputs, then disable.
 */
export function applyOverrides(builder: QuantBuilder, overrides: readonly QuantOverrideEntry[]): QuantBuilder {
  let b = builder;
  for (const o of overrides) {
    if (o.layers !== undefined) b = b.layers(...list(o.layers).map((p) => new RegExp(p)));
    else if (o.ops !== undefined) b = b.ops(...list(o.ops));
    else if (o.tensors !== undefined) b = b.tensors(...list(o.tensors).map((p) => new RegExp(p)));
    else b = b.all();
    if (o.scheme !== undefined) b = typeof o.scheme === 'string' ? b.scheme(o.scheme) : b.scheme(o.scheme.name, o.scheme.options);
    if (o.symmetric !== undefined) b = o.symmetric === false ? b.asymmetric() : b.symmetric({ strict: o.symmetric === 'strict' });
    if (o.perChannel !== undefined)
      b = o.perChannel === false ? b.perTensor() : b.perChannel(o.perChannel === true ? undefined : o.perChannel);
    if (o.activations !== undefined) b = b.activations(o.activations);
    if (o.params !== undefined) b = b.params(o.params);
    if (o.inputs !== undefined) b = o.inputs === true ? b.inputs() : b.inputs(o.inputs);
    if (o.disable !== undefined) b = o.disable ? b.disable() : b.enable();
  }
  return b;
}
