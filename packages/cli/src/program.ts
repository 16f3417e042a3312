import { QuantsimError } from '@quantsim/core';
import { Command, CommanderError } from 'commander';
import { BUNDLED_MODELS } from './bundled-models.js';
import { inspectCommand } from './commands/inspect.js';

/** Where the CLI writes: injectable so that tests capture output. */
export interface CliIO {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const bundledHelp = Object.entries(BUNDLED_MODELS)
  .map(([name, m]) => `  ${name.padEnd(15)} ${m.description}`)
  .join('\n');

/** Builds the `quantsim` command-line program. */
export function createProgram(io: CliIO): Command {
  const program = new Command('quantsim')
    .description('Quantization simulation for ONNX models: per-layer bitwidths, calibration, AIMET encodings.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText('after', `\nBundled models (use the name in place of a path):\n${bundledHelp}`);
  program
    .command('inspect')
    .description('Show a model: inputs, outputs, layers, op types and parameter tensors.')
    .argument('<model>', 'an .onnx file, or a bundled model name')
    .option('--no-layers', 'print the summary only')
    .option('--json', 'print the summary as JSON')
    .action(async (model: string, opts: { layers: boolean; json?: boolean }) => {
      await inspectCommand(model, opts, io.out);
    });
  return program;
}

/**
 * Runs the CLI and returns its exit code: 0 on success, 1 for a user error (a one-line message
 * with a hint), 2 for an internal error.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (e instanceof QuantsimError) {
      io.err(`quantsim: ${e.message}`);
      return 1;
    }
    io.err(`quantsim: internal error: ${(e as Error)?.stack ?? String(e)}`);
    io.err('This is a bug in quantsim; please report it with the command you ran.');
    return 2;
  }
}
