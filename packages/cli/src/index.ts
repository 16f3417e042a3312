/**
 * The `quantsim` command line, also usable as a library (`runCli`).
 *
 * @packageDocumentation
 */
export { BUNDLED_MODELS, bundledAssetsDir, resolveModelArgument } from './bundled-models.js';
export { describeModel, type InspectOptions, inspectCommand } from './commands/inspect.js';
export { formatTable } from './format.js';
export { type CliIO, createProgram, runCli } from './program.js';
