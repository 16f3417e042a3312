import 'reflect-metadata';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import { createBackendContainer, registerBackend } from '../backend/backend-container.js';
import { consoleLogger, LOGGER, type Logger } from '../backend/logger.js';
import type { Backend } from '../contracts/backend.js';
import type { Plugin } from '../contracts/plugin.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import { loadModel } from '../model/load.js';
import { Model } from '../model/model.js';
import { AIMET_DEFAULTS } from '../plan/defaults.js';
import { PreparedModelCache } from '../plan/prepared-model.js';
import { QuantBuilderImpl } from './builder.js';
import { PluginSet } from './plugin-set.js';
import type { QuantBuilder } from './quant-builder.js';

/** What a `quant` function starts every builder with. */
export interface QuantSetup {
  /** Plugins applied to every builder, in order (schemes, rules, backends). */
  readonly plugins?: readonly Plugin[];
  /** Backends registered in every builder's container. */
  readonly backends?: readonly Backend[];
  /** A parent container whose registrations (backends, logger) builders inherit. */
  readonly container?: DependencyContainer;
  /** Where warnings go (default `console.warn`). */
  readonly logger?: Logger;
}

/** Options of one `quant(model, options)` call. */
export interface QuantCallOptions {
  /** Folder for external data when the model is given as bytes. */
  readonly baseDir?: string;
}

/** The `quant` entry point made by {@link createQuant}. */
export type QuantFunction = (model: Model | string | Uint8Array, options?: QuantCallOptions) => QuantBuilder;

/**
 * Makes a `quant` function with a set of plugins and backends. The `quantsim` package exports
 * one made with the default schemes, rules and backends; use this for custom set-ups.
 * Nothing is registered as an import side effect.
 *
 * ### Examples
 * ```ts
 * const quant = createQuant({ plugins: [defaultPlugin], backends: [new CpuBackend()] });
 * const plan = await quant('model.onnx').layers(/fc/).params(16).plan();
 * ```
 */
export function createQuant(setup: QuantSetup = {}): QuantFunction {
  const plugins = new PluginSet(setup.plugins ?? []);
  const parent = setup.container ?? rootContainer;
  const prepared = new PreparedModelCache();
  return (model, options = {}) => {
    const container = createBackendContainer(parent);
    for (const b of setup.backends ?? []) registerBackend(container, b);
    if (setup.logger) container.register(LOGGER, { useValue: setup.logger });
    const logger = container.isRegistered(LOGGER, true) ? container.resolve<Logger>(LOGGER) : consoleLogger;
    return new QuantBuilderImpl(
      {
        defaults: AIMET_DEFAULTS,
        config: undefined,
        overrides: [],
        scope: undefined,
        foldBatchNorms: true,
        backend: { name: 'cpu', fallback: undefined },
        mode: 'simulate',
        recalibrate: false,
      },
      {
        model: modelSource(model, options),
        plugins,
        functions: new Map(),
        backendInstance: undefined,
        container,
        warn: (m) => logger.warn(m),
        prepared,
        carried: undefined,
        loaded: undefined,
      },
    );
  };
}

/** Loads the model once, on first use, and shares it between a builder and its forks. */
function modelSource(model: Model | string | Uint8Array, options: QuantCallOptions): () => Promise<Model> {
  if (model instanceof Model) return () => Promise.resolve(model);
  if (typeof model !== 'string' && !(model instanceof Uint8Array))
    throw new InvalidArgumentError(`quant() takes a Model, a file path or ONNX bytes, received ${describeValue(model)}.`, {
      hint: "For example quant('model.onnx').",
    });
  let loading: Promise<Model> | undefined;
  return () => {
    loading ??= loadModel(model, options);
    return loading;
  };
}
