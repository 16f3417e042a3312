import { registerDefaultBackends } from '@quantsim/backends';
import { createBackendContainer, createQuant, type Logger, type QuantFunction } from '@quantsim/core';
import { defaultPlugin } from '@quantsim/plugins';

/**
 * A `quant` function with the default schemes, rules and backends (as the `quantsim` package's)
 * whose warnings go to `logger`, so that the CLI prints them on stderr in order with its own lines.
 */
export function createCliQuant(logger: Logger): QuantFunction {
  return createQuant({
    plugins: [defaultPlugin],
    container: registerDefaultBackends(createBackendContainer()),
    logger,
  });
}
