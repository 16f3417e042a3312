import { EXPORT_FORMATS, InvalidArgumentError, QuantsimError } from '@quantsim/core';
import { workerMain } from '@quantsim/distributed';
import { Command, CommanderError, Option } from 'commander';
import { BUNDLED_MODELS } from './bundled-models.js';
import { ampCommand, finiteNumber, parseCandidates } from './commands/amp.js';
import { analyzeCommand } from './commands/analyze.js';
import { demoCommand } from './commands/demo.js';
import { inspectCommand } from './commands/inspect.js';
import {
  layerPattern,
  parseFormats,
  positiveInteger,
  type QuantPlanOptions,
  quantPlanOptions,
} from './commands/quant-options.js';
import { type CommandIO, DEFAULT_CLI_FORMATS, quantizeCommand } from './commands/quantize.js';
import { type AnalyzeMetric, parseAnalyses, sensitivityCommand } from './commands/sensitivity.js';
import { CliInputError } from './errors/cli-input-error.js';
import { cliErrorMessage } from './errors/cli-message.js';
import { createProgress } from './progress.js';

/** Where the CLI writes: injectable so that tests capture output. */
export interface CliIO {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** A terminal for live progress bars; without one, progress is printed as plain lines on `err`. */
  readonly terminal?: NodeJS.WritableStream;
}

const bundledHelp = Object.entries(BUNDLED_MODELS)
  .map(([name, m]) => `  ${name.padEnd(15)} ${m.description}`)
  .join('\n');

const formatsHelp = `export formats, comma-separated: ${EXPORT_FORMATS.join(', ')} (default ${DEFAULT_CLI_FORMATS.join(',')})`;

/** `--metric` of `analyze`, `sensitivity` and `amp`. */
function metricOption(): Option {
  return new Option(
    '--metric <name>',
    'sqnr: output SQNR vs float (dB); top1: top-1 agreement with float (%); cer: paddleocr-rec CER on the shipped lines (%)',
  )
    .choices(['sqnr', 'top1', 'cer'])
    .default('sqnr');
}

/** `--workers`: a positive integer or `auto` (undefined when not given). */
function workersFlag(value: string | undefined): number | 'auto' | undefined {
  return value === 'auto' ? 'auto' : positiveInteger('--workers', value);
}

interface QuantizeFlags extends QuantPlanOptions {
  calib: string;
  out: string;
  samples?: string;
  formats?: string;
  unsupportedBitwidth?: string;
  showPlan?: boolean;
}

interface AnalyzeFlags extends QuantPlanOptions {
  calib?: string;
  eval?: string;
  metric: AnalyzeMetric;
  evalSamples?: string;
  samples?: string;
  search: 'screened' | 'exhaustive';
  workers?: string;
  data?: string;
  out: string;
}

interface SensitivityFlags extends QuantPlanOptions {
  calib?: string;
  eval?: string;
  metric: AnalyzeMetric;
  evalSamples?: string;
  samples?: string;
  layers?: string;
  analyses?: string;
  data?: string;
  out: string;
}

interface AmpFlags extends QuantPlanOptions {
  calib?: string;
  eval?: string;
  metric: AnalyzeMetric;
  evalSamples?: string;
  phase1Samples?: string;
  samples?: string;
  workers?: string;
  allowedDrop?: string;
  target?: string;
  candidates?: string;
  cost: 'bops' | 'memory';
  data?: string;
  out: string;
}

interface DemoFlags {
  out: string;
  data?: string;
  calibSamples?: string;
  evalSamples?: string;
  sensitive?: string;
  sensitivitySamples?: string;
  layers?: string;
  backend?: string;
  formats?: string;
}

function withPlanOptions(command: Command): Command {
  for (const option of quantPlanOptions()) command.addOption(option);
  return command;
}

/** Builds the `quantsim` command-line program. */
export function createProgram(io: CliIO): Command {
  const commandIO: CommandIO = {
    out: io.out,
    warn: io.err,
    progress: createProgress({ ...(io.terminal ? { terminal: io.terminal } : {}), line: io.err }),
  };
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

  withPlanOptions(
    program
      .command('quantize')
      .description('Calibrate a model on .npy samples and export encodings, the model and the plan.')
      .argument('<model>', 'an .onnx file, or a bundled model name')
      .requiredOption(
        '--calib <path>',
        'a .npy file (samples along the first axis), a folder of .npy files, or one sub-folder per input',
      )
      .requiredOption('--out <prefix>', 'export prefix: writes <prefix>.encodings, <prefix>.onnx, ...')
      .option('--samples <n>', 'calibrate on at most n samples')
      .option('--formats <list>', formatsHelp)
      .option(
        '--unsupported-bitwidth <mode>',
        "bitwidths without an ONNX type in the .qdq.onnx: 'error' or 'clip' (Quantize-Clip-Dequantize)",
        'error',
      )
      .option('--show-plan', 'print the quantizers the options changed'),
  ).action(async (model: string, flags: QuantizeFlags) => {
    const { samples, formats, unsupportedBitwidth, ...rest } = flags;
    const count = positiveInteger('--samples', samples);
    if (unsupportedBitwidth !== 'error' && unsupportedBitwidth !== 'clip')
      throw new InvalidArgumentError(`--unsupported-bitwidth must be 'error' or 'clip', received '${unsupportedBitwidth}'.`, {
        hint: 'Use --unsupported-bitwidth clip to write such quantizers as Quantize-Clip-Dequantize.',
      });
    await quantizeCommand(
      model,
      {
        ...rest,
        ...(count === undefined ? {} : { samples: count }),
        formats: parseFormats(formats, DEFAULT_CLI_FORMATS),
        unsupportedBitwidth,
      },
      commandIO,
    );
  });

  withPlanOptions(
    program
      .command('analyze')
      .description(
        'The quant analyzer: every layer alone quantized and left in float, weights and activations apart, 16 bits, in one switchable session; findings name each cause and its fix (per-channel weights, outlier ranges, near-constant outputs). Writes analysis.html and analysis.json.',
      )
      .argument('<model>', 'an .onnx file, or a bundled model name')
      .option('--calib <path>', 'calibration .npy data (optional for paddleocr-rec: the shipped lines)')
      .option('--eval <path>', '.npy samples every configuration is scored on (default: the first calibration samples)')
      .addOption(metricOption())
      .option('--eval-samples <n>', 'evaluation samples (default 8; 16 for cer)')
      .option('--samples <n>', 'calibrate on at most n samples')
      .addOption(
        new Option(
          '--search <how>',
          'screened: layers first quantized in blocks, the worst split until measured alone; exhaustive: every layer alone',
        )
          .choices(['screened', 'exhaustive'])
          .default('screened'),
      )
      .option('--workers <n>', "evaluation threads, each with its own session (a number, or 'auto': one per core; default 1)")
      .option('--data <dir>', 'OCR lines folder for paddleocr-rec (default data/ocr-lines)')
      .option('--out <dir>', 'report folder', 'report')
      // The options of the earlier `analyze`, now `sensitivity`: refused with where they went.
      .addOption(new Option('--layers <regex>').hideHelp())
      .addOption(new Option('--analyses <list>').hideHelp()),
  ).action(async (model: string, flags: AnalyzeFlags & { layers?: string; analyses?: string }) => {
    const { evalSamples: evalText, samples: samplesText, workers, layers, analyses, ...rest } = flags;
    for (const [flag, value] of [
      ['--layers', layers],
      ['--analyses', analyses],
    ] as const)
      if (value !== undefined)
        throw new CliInputError(
          `${flag} ${value}`,
          'belongs to `quantsim sensitivity` (the AIMET sensitivity tables that `analyze` was before); `analyze` measures every layer',
          `Run quantsim sensitivity ${model} ${flag} ${value} … , or drop ${flag}.`,
        );
    const evalSamples = positiveInteger('--eval-samples', evalText);
    const samples = positiveInteger('--samples', samplesText);
    const threads = workersFlag(workers);
    await analyzeCommand(
      model,
      {
        ...rest,
        ...(evalSamples === undefined ? {} : { evalSamples }),
        ...(samples === undefined ? {} : { samples }),
        ...(threads === undefined ? {} : { workers: threads }),
      },
      commandIO,
    );
  });

  withPlanOptions(
    program
      .command('sensitivity')
      .description(
        "AIMET QuantAnalyzer's sensitivity tables: per-layer SQNR, each layer alone quantized and alone in float, weights vs activations. Writes sensitivity.html and sensitivity.json. Costs two simulations per layer, each running --eval-samples samples: use --layers to analyze fewer. (`analyze` also names causes and fixes.)",
      )
      .argument('<model>', 'an .onnx file, or a bundled model name')
      .option('--calib <path>', 'calibration .npy data (optional for paddleocr-rec: the shipped lines)')
      .option('--eval <path>', '.npy samples the metric runs on (default: the first calibration samples)')
      .addOption(metricOption())
      .option('--eval-samples <n>', 'samples per measurement (default 4; 16 for cer)')
      .option('--samples <n>', 'calibrate on at most n samples')
      .option('--layers <regex>', 'analyze only the layers matching this, one by one (default all quantized layers)')
      .option(
        '--analyses <list>',
        'comma-separated: per-layer-sqnr, weights-vs-activations, only-quantized, only-float (default all)',
      )
      .option('--data <dir>', 'OCR lines folder for paddleocr-rec (default data/ocr-lines)')
      .option('--out <dir>', 'report folder', 'report'),
  ).action(async (model: string, flags: SensitivityFlags) => {
    const { evalSamples: evalText, samples: samplesText, layers: layersText, analyses: analysesText, ...rest } = flags;
    const evalSamples = positiveInteger('--eval-samples', evalText);
    const samples = positiveInteger('--samples', samplesText);
    const layers = layerPattern(layersText);
    const analyses = parseAnalyses(analysesText);
    await sensitivityCommand(
      model,
      {
        ...rest,
        ...(evalSamples === undefined ? {} : { evalSamples }),
        ...(samples === undefined ? {} : { samples }),
        ...(layers ? { layers } : {}),
        ...(analyses ? { analyses } : {}),
      },
      commandIO,
    );
  });

  withPlanOptions(
    program
      .command('amp')
      .description(
        "Automatic mixed precision (AIMET's AMP): per-layer sensitivity of each candidate, then a greedy walk along the Pareto front until the metric is within --allowed-drop of float (or reaches --target). Writes plan.json (a config: quantize --config reproduces the plan), front.json and amp.html.",
      )
      .argument('<model>', 'an .onnx file, or a bundled model name')
      .option('--calib <path>', 'calibration .npy data (optional for paddleocr-rec: the shipped lines)')
      .option('--eval <path>', '.npy samples the metric runs on (default: the first calibration samples)')
      .addOption(metricOption())
      .option('--allowed-drop <x>', 'largest acceptable drop from the float score, in the metric unit')
      .option('--target <x>', 'or the score to reach')
      .option(
        '--candidates <list>',
        'comma-separated W<weight bits>A<activation bits> or fp16, e.g. W8A8,W8A16,W16A16 (the default)',
      )
      .addOption(
        new Option('--cost <model>', 'bops: MACs × bits; memory: parameter and activation bytes')
          .choices(['bops', 'memory'])
          .default('bops'),
      )
      .option('--eval-samples <n>', 'samples per evaluation (default 8; 32 for cer)')
      .option('--phase1-samples <n>', 'samples per phase-1 evaluation (default a quarter of --eval-samples)')
      .option('--samples <n>', 'calibrate on at most n samples')
      .option('--data <dir>', 'OCR lines folder for paddleocr-rec (default data/ocr-lines)')
      .option('--workers <n>', "evaluation threads, each with its own session (a number, or 'auto': one per core; default 1)")
      .option('--out <dir>', 'output folder', 'amp'),
  ).action(async (model: string, flags: AmpFlags) => {
    const { evalSamples, phase1Samples, samples, allowedDrop, target, candidates, workers, ...rest } = flags;
    const counts = {
      evalSamples: positiveInteger('--eval-samples', evalSamples),
      phase1Samples: positiveInteger('--phase1-samples', phase1Samples),
      samples: positiveInteger('--samples', samples),
      workers: workersFlag(workers),
    };
    const drop = finiteNumber('--allowed-drop', allowedDrop);
    const goal = finiteNumber('--target', target);
    const list = parseCandidates(candidates);
    await ampCommand(
      model,
      {
        ...rest,
        ...Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined)),
        ...(drop === undefined ? {} : { allowedDrop: drop }),
        ...(goal === undefined ? {} : { target: goal }),
        ...(list ? { candidates: list } : {}),
      },
      commandIO,
    );
  });

  program
    .command('demo')
    .description(
      'Quantize the bundled PaddleOCR recognizer on the shipped text lines: float vs W8A8 vs a mixed plan chosen by sensitivity; exports the mixed plan.',
    )
    .option('--out <prefix>', 'export prefix of the mixed plan', 'out/paddleocr-rec')
    .option('--data <dir>', 'OCR lines folder (default data/ocr-lines)')
    .option('--calib-samples <n>', 'calibration lines (default all 64)')
    .option('--eval-samples <n>', 'evaluation lines (default all 96)')
    .option('--sensitive <n>', 'layers the mixed plan raises to 16 bits (default 20)')
    .option('--sensitivity-samples <n>', 'calibration lines the sensitivity measurement runs (default 4)')
    .option(
      '--layers <regex>',
      'only layers matching this are candidates for 16 bits (default all; measuring all 367 takes one to two minutes)',
    )
    .option('--backend <name>', 'cpu, cuda or webgpu (default cpu)')
    .option('--formats <list>', formatsHelp)
    .action(async (flags: DemoFlags) => {
      await demoCommand(
        {
          out: flags.out,
          calibSamples: positiveInteger('--calib-samples', flags.calibSamples),
          evalSamples: positiveInteger('--eval-samples', flags.evalSamples),
          sensitive: positiveInteger('--sensitive', flags.sensitive),
          sensitivitySamples: positiveInteger('--sensitivity-samples', flags.sensitivitySamples),
          layers: layerPattern(flags.layers),
          data: flags.data,
          backend: flags.backend,
          formats: parseFormats(flags.formats, DEFAULT_CLI_FORMATS),
        },
        commandIO,
      );
    });
  program
    .command('worker')
    .description(
      'Take calibration shards and analysis/AMP configurations from a BullMQ queue on Redis until stopped (SIGTERM or Ctrl-C); see quantsim-worker --help.',
    )
    .allowUnknownOption()
    .helpOption(false)
    .argument('[options...]', 'the options of quantsim-worker: --redis URL, --queue NAME, --data DIR, ...')
    .action(async (args: string[]) => {
      const code = await workerMain(args);
      if (code !== 0) throw new CommanderError(code, 'quantsim.worker', `quantsim worker exited with code ${code}`);
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
      io.err(`quantsim: ${cliErrorMessage(e)}`);
      return 1;
    }
    io.err(`quantsim: internal error: ${(e as Error)?.stack ?? String(e)}`);
    io.err('This is a bug in quantsim; please report it with the command you ran.');
    return 2;
  }
}
