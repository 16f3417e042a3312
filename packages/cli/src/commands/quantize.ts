import path from 'node:path';
import { formatValue, outputSqnrMetric } from '@quantsim/analyze';
import { type ExportedFiles, type ExportFormat, loadModel } from '@quantsim/core';
import { openNpySamples } from '@quantsim/data';
import { resolveModelArgument } from '../bundled-models.js';
import { createCliQuant } from '../cli-quant.js';
import { displayPath } from '../format.js';
import type { ProgressFactory } from '../progress.js';
import { buildPlan, calibrationFlags, describePlan, type QuantPlanOptions } from './quant-options.js';

/** Export formats the CLI writes unless `--formats` says otherwise. */
export const DEFAULT_CLI_FORMATS: readonly ExportFormat[] = ['encodings', 'onnx', 'qdq', 'ort-overrides', 'plan'];

/** Options of `quantsim quantize`. */
export interface QuantizeOptions extends QuantPlanOptions {
  /** A `.npy` file, a folder of them, or a folder of per-input sub-folders. */
  readonly calib: string;
  /** The export prefix: `<out>.encodings`, `<out>.onnx`… */
  readonly out: string;
  /** Calibrate on at most this many samples. */
  readonly samples?: number;
  readonly formats?: readonly ExportFormat[];
  /** Bitwidths with no ONNX type in the QDQ model: an error (default) or the Quantize-Clip-Dequantize form. */
  readonly unsupportedBitwidth?: 'error' | 'clip';
  /** Print the resolved plan table, overridden quantizers only. */
  readonly showPlan?: boolean;
}

/** What `quantize` did, for callers and tests. */
export interface QuantizeOutcome {
  readonly files: ExportedFiles;
  readonly samples: number;
  /** Output SQNR (dB) on up to 4 calibration samples, float versus quantized. */
  readonly outputSqnr: number;
}

/** Where commands print, and how they show progress. */
export interface CommandIO {
  readonly out: (line: string) => void;
  readonly warn: (line: string) => void;
  readonly progress: ProgressFactory;
}

/**
 * `quantsim quantize`: builds the plan from the options, calibrates on the `.npy` samples, and
 * exports the simulation.
 */
export async function quantizeCommand(modelArg: string, options: QuantizeOptions, io: CommandIO): Promise<QuantizeOutcome> {
  const model = await loadModel(resolveModelArgument(modelArg));
  const modelName = path.basename(modelArg);
  const data = openNpySamples(options.calib, model.graph, modelName);
  const quant = createCliQuant({ warn: io.warn });
  const builder = buildPlan(quant, model, modelName, options);
  const plan = await builder.plan();
  const enabled = plan.enabled;
  io.out(`Model      ${modelArg}: ${model.layers().length} layers, ${enabled.length} quantizers enabled`);
  io.out(`Plan       ${describePlan(builder)}`);
  if (options.showPlan) {
    io.out('');
    io.out(plan.toTable({ onlyOverridden: true }));
    io.out('');
  }
  const count = Math.min(data.count, options.samples ?? data.count);
  io.out(`Calibrate  ${data.description}${count < data.count ? `, first ${count}` : ''}`);
  const task = io.progress('calibrating', count);
  const sim = await builder.calibrate(() => data.samples(count), {
    ...calibrationFlags(options),
    onProgress: (p) => task.update(p.done),
  });
  task.finish();
  try {
    const check = [...data.samples(Math.min(4, count))];
    const sqnr = await outputSqnrMetric(check, (f) => sim.runFloat(f)).measure((f) => sim.run(f));
    io.out(
      `Output     SQNR ${formatValue(sqnr)} dB against float on ${check.length} calibration sample${check.length === 1 ? '' : 's'}`,
    );
    const files = await sim.export(options.out, {
      formats: options.formats ?? DEFAULT_CLI_FORMATS,
      unsupportedBitwidth: options.unsupportedBitwidth ?? 'error',
    });
    for (const [format, file] of Object.entries(files)) io.out(`Wrote      ${format.padEnd(14)} ${displayPath(file)}`);
    return { files, samples: count, outputSqnr: sqnr };
  } finally {
    await sim.release();
  }
}
