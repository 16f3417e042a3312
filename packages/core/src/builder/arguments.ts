import { readFileSync } from 'node:fs';
import type { Backend } from '../contracts/backend.js';
import { describeValue, InvalidArgumentError, type QuantsimError } from '../errors/quantsim-error.js';
import { type ParsedEncodings, parseAimetEncodings } from '../export/aimet/read.js';
import type { OverrideFields } from '../plan/overrides.js';
import { type LayerPredicate, type SelectorData, toPatterns } from '../plan/selector.js';
import type { BuilderState } from './builder-state.js';
import type { QuantizerOptions } from './options.js';

/** Options of `.equalize()`, `.biasCorrection()` and `.seqMse()`: known keys, positive integer counts, boolean flags. */
export function postTrainingOptions<T extends object>(
  call: string,
  options: T,
  counts: readonly string[],
  flags: readonly string[],
): T {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError(`${call} takes an options object, received ${describeValue(options)}.`);
  for (const [k, v] of Object.entries(options)) {
    if (counts.includes(k)) {
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1))
        throw new InvalidArgumentError(`${call}: ${k} must be a positive integer, received ${describeValue(v)}.`);
    } else if (flags.includes(k)) {
      if (v !== undefined && typeof v !== 'boolean')
        throw new InvalidArgumentError(`${call}: ${k} must be true or false, received ${describeValue(v)}.`);
    } else
      throw new InvalidArgumentError(`${call}: unknown option '${k}'.`, {
        hint: `Options: ${[...counts, ...flags].join(', ')}.`,
      });
  }
  return { ...options };
}

/*
 * Argument checks of the builder's methods: the builder validates what users pass, so that the
 * stages (and backends) only ever see valid input. Each returns plain data for the state.
 */

let nextFunctionId = 1;

/** A selector call as plain data; layer predicates are kept beside the state, by id, in `functions`. */
export function selectorData(
  kind: 'layers' | 'ops' | 'tensors',
  patterns: readonly (RegExp | string | LayerPredicate)[],
  functions: Map<number, LayerPredicate>,
): SelectorData {
  if (kind === 'ops')
    for (const op of patterns)
      if (typeof op !== 'string' || op === '')
        throw new InvalidArgumentError(`.ops() takes op type names such as 'Conv' or 'Softmax', received ${describeValue(op)}.`);
  const call = `.${kind}(${patterns.map((p) => (p instanceof RegExp ? String(p) : typeof p === 'function' ? '(layer) => …' : describeValue(p))).join(', ')})`;
  const data = toPatterns(call, patterns, (fn) => {
    const id = nextFunctionId++;
    functions.set(id, fn);
    return id;
  });
  if (kind !== 'layers' && data.some((p) => p.type === 'function'))
    throw new InvalidArgumentError(`${call}: functions select layers only.`, { hint: 'Use .layers((layer) => …) instead.' });
  return { kind, patterns: data, call };
}

/** The override fields of `.activations()`, `.params()` or `.inputs()`. */
export function quantizerFields(what: string, settings: number | QuantizerOptions): OverrideFields {
  if (typeof settings === 'number') {
    if (!Number.isInteger(settings))
      throw new InvalidArgumentError(`.${what}(${settings}): a bitwidth must be an integer.`, { hint: 'For example 8 or 16.' });
    return { bitwidth: settings };
  }
  if (
    typeof settings !== 'object' ||
    settings === null ||
    Object.keys(settings).length === 0 ||
    (settings.bits !== undefined && (typeof settings.bits !== 'number' || !Number.isInteger(settings.bits)))
  )
    throw new InvalidArgumentError(
      `.${what}() takes a bitwidth or { bits?, symmetric?, scheme?, schemeOptions?, dtype? } (at least one), received ${describeValue(settings)}.`,
      {
        hint: `For example .${what}(16), .${what}({ bits: 16, dtype: 'float' }) or .${what}({ scheme: 'percentile' }) (the bitwidth stays).`,
      },
    );
  const known = new Set(['bits', 'symmetric', 'scheme', 'schemeOptions', 'dtype']);
  for (const k of Object.keys(settings))
    if (!known.has(k))
      throw new InvalidArgumentError(`.${what}(): unknown option '${k}'.`, { hint: `Options: ${[...known].join(', ')}.` });
  if (settings.schemeOptions !== undefined && settings.scheme === undefined)
    throw new InvalidArgumentError(`.${what}(): schemeOptions need the scheme they are for.`, {
      hint: `For example .${what}({ scheme: 'percentile', schemeOptions: { p: 99.99 } }).`,
    });
  if (settings.symmetric !== undefined && typeof settings.symmetric !== 'boolean')
    throw new InvalidArgumentError(
      `.${what}(): symmetric must be true or false, received ${describeValue(settings.symmetric)}.`,
      { hint: `For example .${what}({ ${settings.bits === undefined ? '' : `bits: ${settings.bits}, `}symmetric: true }).` },
    );
  if (settings.dtype !== undefined && settings.dtype !== 'int' && settings.dtype !== 'float')
    throw new InvalidArgumentError(`.${what}(): dtype must be 'int' or 'float', received ${describeValue(settings.dtype)}.`);
  const fields: OverrideFields = {
    ...(settings.bits !== undefined ? { bitwidth: settings.bits } : {}),
    ...(settings.dtype !== undefined ? { dtype: settings.dtype } : {}),
    ...(settings.symmetric !== undefined ? { symmetric: settings.symmetric } : {}),
    ...(settings.scheme !== undefined ? { scheme: settings.scheme, schemeOptions: settings.schemeOptions ?? {} } : {}),
  };
  return fields;
}

/** `.inputs()` without a bitwidth only enables the input quantizers; with one it also sets them. */
export function inputFields(settings: number | QuantizerOptions): { fields: OverrideFields; text: string } {
  // null is not a bare call: quantizerFields refuses it with the usual message.
  const bare = typeof settings === 'object' && settings !== null && Object.keys(settings).length === 0;
  return {
    fields: { ...(bare ? {} : quantizerFields('inputs', settings)), enabled: true },
    text: `.inputs(${bare ? '' : describeValue(settings)})`,
  };
}

/** The axis of `.perChannel(axis?)`: a non-negative integer, or the layer's natural output-channel axis. */
export function perChannelAxis(axis: number | undefined): number | 'natural' {
  if (axis !== undefined && (!Number.isInteger(axis) || axis < 0))
    throw new InvalidArgumentError(`.perChannel(${describeValue(axis)}): the axis must be a non-negative integer.`, {
      hint: 'Omit it to use the output-channel axis (Conv 0, ConvTranspose 1).',
    });
  return axis ?? 'natural';
}

/** The override of `.symmetric(options)`. */
export function symmetricFields(options: { strict?: boolean }): { fields: OverrideFields; text: string } {
  checkSymmetricOptions(options);
  return {
    fields: options.strict === undefined ? { symmetric: true } : { symmetric: true, strictSymmetric: options.strict },
    text: `.symmetric(${options.strict === undefined ? '' : describeValue(options)})`,
  };
}

/** The override of `.scheme(name, options)`. */
export function schemeFields(name: string, options: Readonly<Record<string, unknown>>): { fields: OverrideFields; text: string } {
  if (typeof name !== 'string' || name === '')
    throw new InvalidArgumentError(`.scheme() takes a scheme name such as 'tf-enhanced', received ${describeValue(name)}.`);
  return {
    fields: { scheme: name, schemeOptions: options },
    text: `.scheme(${describeValue(name)}${Object.keys(options).length ? `, ${describeValue(options)}` : ''})`,
  };
}

/** The backend of `.backend(nameOrInstance)`: its name for the state, and the instance if one was given. */
export function backendChoice(backend: string | Backend): { name: string; instance: Backend | undefined } {
  if (typeof backend === 'string') {
    if (backend === '') throw new InvalidArgumentError('.backend() needs a backend name, for example "cpu".');
    return { name: backend, instance: undefined };
  }
  if (
    typeof backend !== 'object' ||
    backend === null ||
    typeof backend.createSession !== 'function' ||
    typeof backend.name !== 'string'
  )
    throw new InvalidArgumentError(`.backend() takes a backend name or a Backend object, received ${describeValue(backend)}.`, {
      hint: 'A Backend has name, capabilities, probe() and createSession().',
    });
  return { name: backend.name, instance: backend };
}

/** The mode of `.mode(mode)`. */
export function simulationMode(mode: 'simulate' | 'emulate'): 'simulate' | 'emulate' {
  if (mode !== 'simulate' && mode !== 'emulate')
    throw new InvalidArgumentError(`.mode() takes 'simulate' or 'emulate', received ${describeValue(mode)}.`);
  return mode;
}

/** Reads and parses the AIMET encodings of `.loadEncodings(fileOrObject)`. */
export function readEncodings(file: string | object): ParsedEncodings {
  if (typeof file !== 'string') return parseAimetEncodings(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(`loadEncodings: cannot read ${file} (${(e as Error).message}).`, {
      hint: 'Check the path of the .encodings file.',
    });
  }
  return parseAimetEncodings(text, file);
}

/** Checks the argument of `.symmetric(options)`: an object with at most `strict: boolean`. */
export function checkSymmetricOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new InvalidArgumentError(`.symmetric() takes { strict?: boolean }, received ${describeValue(options)}.`, {
      hint: 'For example .symmetric() or .symmetric({ strict: true }).',
    });
  for (const key of Object.keys(options))
    if (key !== 'strict')
      throw new InvalidArgumentError(`.symmetric(): unknown option '${key}'.`, {
        hint: 'The only option is strict: true or false.',
      });
  const strict = (options as { strict?: unknown }).strict;
  if (strict !== undefined && typeof strict !== 'boolean')
    throw new InvalidArgumentError(`.symmetric(): strict must be true or false, received ${describeValue(strict)}.`, {
      hint: 'For example .symmetric({ strict: true }).',
    });
}

/**
 * The selector call that no modifier followed (`.layers(/fc/)` alone changes nothing), if any.
 * A modifier records the selection it applied to, so the selection in effect is used when the
 * last override carries it.
 */
export function danglingSelector(state: BuilderState): string | undefined {
  const scope = state.scope;
  if (!scope) return undefined;
  const last = state.overrides[state.overrides.length - 1];
  return last && last.selector === scope ? undefined : scope.call || '.all()';
}

/** The error for a selection that no modifier followed. */
export function danglingSelectorError(call: string): QuantsimError {
  return new InvalidArgumentError(`${call} selects quantizers but no modifier follows it, so it changes nothing.`, {
    hint: `Add a modifier after it, for example ${call}.params(16), .activations(16), .perChannel(), .symmetric() or .disable(); or remove it.`,
  });
}
