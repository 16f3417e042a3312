/**
 * Quantizes the PaddleOCR recognizer with per-layer overrides chosen from a sensitivity report
 * (`quantsim analyze paddleocr-rec`, saved in `recognizer-sensitivity.json` beside this file):
 *
 * - the report measured the output SQNR with only the weights and with only the activations
 *   quantized; when weights cost more, weights get per-channel encodings;
 * - the layers whose quantization alone costs the most (lowest output SQNR with only that layer
 *   quantized) get 16-bit weights and activations;
 * - everything else stays at AIMET's 8/8 with TF-enhanced encodings.
 *
 * It calibrates on the shipped calibration lines, reads the shipped evaluation lines with the
 * float and the quantized model, and exports the result.
 *
 * Run: `pnpm exec tsx --conditions=@quantsim/source examples/ocr/quantize-recognizer.ts [out/prefix]`
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CLI_FORMATS, resolveModelArgument } from '@quantsim/cli';
import { evaluateRecognizer, loadOcrDictionary, loadOcrLines, type RecognizerEvaluation } from '@quantsim/data';
import { type ExportedFiles, type ExportFormat, type QuantPlan, quant } from 'quantsim';

/** The sensitivity report shipped with the example. */
export const SHIPPED_REPORT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'recognizer-sensitivity.json');

/** The parts of `sensitivity.json` this example reads. */
interface SensitivityReport {
  readonly weightsOnly: number | null;
  readonly activationsOnly: number | null;
  readonly units: readonly { readonly unit: string; readonly layers: readonly string[]; readonly onlyQuantized: number | null }[];
}

/** Options of {@link quantizeRecognizer}. */
export interface RecognizerExampleOptions {
  /** A `sensitivity.json` from `quantsim analyze paddleocr-rec` (default: the shipped one). */
  readonly report?: string;
  /** How many of the most sensitive layers get 16 bits (default 8). */
  readonly sensitiveLayers?: number;
  /** Calibration and evaluation lines to use (default all: 64 and 96). */
  readonly calibSamples?: number;
  readonly evalSamples?: number;
  /** Export prefix (default `out/paddleocr-rec-mixed`). */
  readonly prefix?: string;
  readonly formats?: readonly ExportFormat[];
}

/** What the example measured and wrote. */
export interface RecognizerExampleResult {
  /** The layers raised to 16 bits, most sensitive first. */
  readonly sensitiveLayers: readonly string[];
  readonly perChannel: boolean;
  readonly plan: QuantPlan;
  readonly float: RecognizerEvaluation;
  readonly quantized: RecognizerEvaluation;
  readonly files: ExportedFiles;
}

/** Quantizes the recognizer with overrides read from the sensitivity report. */
export async function quantizeRecognizer(options: RecognizerExampleOptions = {}): Promise<RecognizerExampleResult> {
  const report = JSON.parse(readFileSync(options.report ?? SHIPPED_REPORT, 'utf8')) as SensitivityReport;
  // Lowest SQNR with only that layer quantized first; null means identical to float (never chosen).
  const ranked = report.units
    .filter((u): u is typeof u & { onlyQuantized: number } => u.onlyQuantized !== null)
    .sort((a, b) => a.onlyQuantized - b.onlyQuantized);
  const chosen = ranked.slice(0, options.sensitiveLayers ?? 8);
  const sensitiveLayers = chosen.flatMap((u) => u.layers);
  const perChannel =
    report.weightsOnly !== null && report.activationsOnly !== null && report.weightsOnly < report.activationsOnly;

  const dictionary = loadOcrDictionary();
  const calibration = loadOcrLines('calibration', { limit: options.calibSamples }).map((l) => ({ x: l.input }));
  const evaluation = loadOcrLines('evaluation', { limit: options.evalSamples });

  let builder = quant(resolveModelArgument('paddleocr-rec')).defaults({
    activations: 8,
    params: 8,
    scheme: 'tf-enhanced',
    perChannel,
  });
  if (sensitiveLayers.length > 0)
    builder = builder
      .layers(...sensitiveLayers)
      .activations(16)
      .params(16);
  const sim = await builder.calibrate(calibration);
  try {
    const float = await evaluateRecognizer((feeds) => sim.runFloat(feeds), evaluation, dictionary);
    const quantized = await evaluateRecognizer((feeds) => sim.run(feeds), evaluation, dictionary);
    const files = await sim.export(options.prefix ?? 'out/paddleocr-rec-mixed', {
      formats: options.formats ?? DEFAULT_CLI_FORMATS,
    });
    return { sensitiveLayers: chosen.map((u) => u.unit), perChannel, plan: sim.plan, float, quantized, files };
  } finally {
    await sim.release();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await quantizeRecognizer({ prefix: process.argv[2] ?? 'out/paddleocr-rec-mixed' });
  const line = (name: string, e: RecognizerEvaluation) =>
    console.log(`${name.padEnd(10)} accuracy ${(e.accuracy * 100).toFixed(1)}%  CER ${(e.cer * 100).toFixed(2)}%`);
  console.log(`Weights ${result.perChannel ? 'per-channel' : 'per-tensor'}; 16 bits on ${result.sensitiveLayers.join(', ')}`);
  line('float', result.float);
  line('quantized', result.quantized);
  console.log('Wrote:', Object.values(result.files).join(', '));
}
