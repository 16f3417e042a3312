import { existsSync } from 'node:fs';
import { EXPORT_FORMATS, type ExportFormat, type Model, type QuantBuilder, type QuantFunction } from '@quantsim/core';
import { Option } from 'commander';
import { applyDefaults, applyOverrides, checkSelectors } from '../config/apply-quant-config.js';
import type { QuantOverrideEntry } from '../config/quant-config-schema.js';
import { readConfigFile } from '../config/read-quant-config.js';
import { parseSetShorthand } from '../config/set-shorthand.js';
import { CliInputError } from '../errors/cli-input-error.js';

/** The plan options shared by `quantize` and `analyze`. */
export interface QuantPlanOptions {
  /**
   * A JSON or YAML file of `{ defaults, overrides }`, an AIMET quantsim config file (told apart by
   * shape), or the name of a shipped AIMET config (`aimet-default`, `aimet-per-channel`, `htp`, `ort`).
   */
  readonly config?: string;
  /** What calibration does with NaN or infinite values: `'error'` (the default) or `'ignore'`. */
  readonly nonFinite?: string;
  /** `<regex>:a<bits>w<bits>` shorthands, applied after the config's overrides. */
  readonly set?: readonly string[];
  readonly scheme?: string;
  readonly perChannel?: boolean;
  /** `--per-tensor`: AIMET's per-tensor weights instead of the per-channel default. */
  readonly perTensor?: boolean;
  /** `--no-bias-correction` (`false`): turns off the empirical bias correction `calibrate` runs by default; `--bias-correction` (`true`) asks for it explicitly. */
  readonly biasCorrection?: boolean;
  readonly backend?: string;
}

/** Commander options for {@link QuantPlanOptions}. */
export function quantPlanOptions(): Option[] {
  return [
    new Option(
      '--config <file|name>',
      'a JSON or YAML file: { defaults: {...}, overrides: [ { layers|ops|tensors, activations, params, ... } ] }, an AIMET quantsim config JSON, or a shipped AIMET config: aimet-default, aimet-per-channel, htp, ort',
    ),
    new Option(
      '--non-finite <mode>',
      "NaN or infinite values in calibration data: 'error' (stop, naming the tensor and sample) or 'ignore' (skip and count them)",
    ).choices(['error', 'ignore']),
    new Option(
      '--set <regex:spec>',
      "bits for matching layers, e.g. 'fc|bbox:a16w16' (a: activations, w: weights); repeatable",
    ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    new Option('--scheme <name>', 'encoding scheme: minmax, tf-enhanced, percentile, mse, entropy (default tf-enhanced)'),
    new Option('--per-channel', 'per-channel weight encodings (already the default for Conv, ConvTranspose, Gemm, MatMul)'),
    new Option('--per-tensor', "per-tensor weight encodings (AIMET's default config)").conflicts('perChannel'),
    new Option('--bias-correction', 'empirical bias correction on the first 16 calibration samples (the default)'),
    new Option('--no-bias-correction', 'turn off the default bias correction (as AIMET calibrates)'),
    new Option('--backend <name>', 'cpu, cuda or webgpu (default cpu)'),
  ];
}

/**
 * Builds the plan the options describe. Precedence, lowest first: AIMET defaults, the config's
 * defaults, `--scheme` and `--per-channel`, the config's overrides, then each `--set` in order.
 * Every selector is checked against the model first, so a typo is reported with the file and
 * JSON path (or the `--set` value) that holds it.
 * @throws QuantConfigError
 */
export function buildPlan(quant: QuantFunction, model: Model, modelName: string, options: QuantPlanOptions): QuantBuilder {
  let builder = quant(model);
  // A bare name that is not a file names an AIMET config a plugin ships (unknown names list the known ones);
  // a file is read and told apart by shape: an AIMET quantsim config, or quantsim's { defaults, overrides }.
  const named = options.config !== undefined && !existsSync(options.config) && !/[/\\.]/.test(options.config);
  if (named) builder = builder.config(options.config as string);
  const contents = options.config && !named ? readConfigFile(options.config) : undefined;
  if (contents?.kind === 'aimet')
    builder = builder.config(/\.json$/i.test(options.config ?? '') ? (options.config as string) : contents.data);
  const config = contents?.kind === 'quantsim' ? contents.config : undefined;
  if (config) {
    checkSelectors(model, modelName, { source: options.config ?? '', path: 'overrides', overrides: config.overrides ?? [] });
    builder = applyDefaults(builder, config);
  }
  if (options.scheme !== undefined) builder = builder.defaults({ scheme: options.scheme });
  if (options.perChannel) builder = builder.defaults({ perChannel: true });
  if (options.perTensor) builder = builder.defaults({ perChannel: false });
  if (options.biasCorrection !== undefined) builder = builder.biasCorrection(options.biasCorrection);
  if (config?.overrides) builder = applyOverrides(builder, config.overrides);
  const sets: QuantOverrideEntry[] = [];
  for (const value of options.set ?? []) {
    const entry = parseSetShorthand(value);
    checkSelectors(model, modelName, { source: `--set ${JSON.stringify(value)}`, path: '', overrides: [entry] });
    sets.push(entry);
  }
  builder = applyOverrides(builder, sets);
  if (options.backend) builder = builder.backend(options.backend);
  return builder;
}

/** The calibration options that {@link QuantPlanOptions} carry (`--non-finite`). */
export function calibrationFlags(options: QuantPlanOptions): { nonFinite?: 'error' | 'ignore' } {
  const mode = options.nonFinite;
  if (mode === undefined) return {};
  if (mode !== 'error' && mode !== 'ignore')
    throw new CliInputError(`--non-finite ${mode}`, "expected 'error' or 'ignore'", 'For example --non-finite ignore.');
  return { nonFinite: mode };
}

/** Describes a builder's plan in a few words, for tables and reports. */
export function describePlan(builder: QuantBuilder): string {
  const d = builder.state.defaults;
  const overrides = builder.state.overrides.length;
  return [
    `W${d.params}A${d.activations}`,
    d.scheme,
    d.perChannel ? 'per-channel' : 'per-tensor',
    ...(builder.state.postTraining?.biasCorrection === false ? ['no bias correction'] : ['bias correction']),
    ...(builder.state.config ? [`config ${builder.state.config.source}`] : []),
    ...(overrides > 0 ? [`${overrides} override${overrides === 1 ? '' : 's'}`] : []),
  ].join(', ');
}

/** The non-empty, trimmed entries of a comma-separated flag value (`--formats`, `--analyses`, `--candidates`). */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Parses `--formats`: a comma-separated list of export formats.
 * @throws CliInputError naming the unknown format.
 */
export function parseFormats(value: string | undefined, fallback: readonly ExportFormat[]): ExportFormat[] {
  if (value === undefined) return [...fallback];
  const formats = commaList(value);
  for (const f of formats)
    if (!EXPORT_FORMATS.includes(f as ExportFormat))
      throw new CliInputError(`--formats ${value}`, `'${f}' is not an export format`, `Formats: ${EXPORT_FORMATS.join(', ')}.`);
  if (formats.length === 0) throw new CliInputError('--formats', 'names no format', `Formats: ${EXPORT_FORMATS.join(', ')}.`);
  return formats as ExportFormat[];
}

/**
 * Parses a positive integer option such as `--samples`.
 * @throws CliInputError naming the option.
 */
export function positiveInteger(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliInputError(`${option} ${value}`, 'expected a whole number of 1 or more', `For example ${option} 16.`);
  return n;
}

/**
 * Compiles a `--layers` regular expression.
 * @throws CliInputError naming the option when it does not compile.
 */
export function layerPattern(value: string | undefined): RegExp | undefined {
  if (value === undefined) return undefined;
  try {
    return new RegExp(value);
  } catch (e) {
    throw new CliInputError(
      `--layers ${value}`,
      `is not a valid regular expression (${(e as Error).message})`,
      "For example --layers 'Conv|MatMul'.",
    );
  }
}
