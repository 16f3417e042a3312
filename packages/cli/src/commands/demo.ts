import path from 'node:path';
import { analyzeSensitivity, mostSensitiveUnits, outputSqnrMetric, type UnitSensitivity } from '@quantsim/analyze';
import { type ExportedFiles, type ExportFormat, loadModel } from '@quantsim/core';
import { evaluateRecognizer, loadOcrDictionary, loadOcrLines, type RecognizerEvaluation } from '@quantsim/data';
import { resolveModelArgument } from '../bundled-models.js';
import { createCliQuant } from '../cli-quant.js';
import { displayPath, formatTable } from '../format.js';
import type { ProgressTask } from '../progress.js';
import { type CommandIO, DEFAULT_CLI_FORMATS } from './quantize.js';

/** Options of `quantsim demo`. */
export interface DemoOptions {
  /** Export prefix of the mixed plan (default `out/paddleocr-rec`). */
  readonly out?: string;
  /** The OCR lines folder (default the shipped data/ocr-lines). */
  readonly data?: string;
  /** Calibration lines used (default all 64). */
  readonly calibSamples?: number;
  /** Evaluation lines used (default all 96). */
  readonly evalSamples?: number;
  /** How many of the most sensitive layers the mixed plan raises to 16 bits (default 20). */
  readonly sensitive?: number;
  /** Calibration lines the sensitivity measurement runs on (default 4). */
  readonly sensitivitySamples?: number;
  /** Only layers matching this are candidates for 16 bits (default all: one to two minutes on 2 cores). */
  readonly layers?: RegExp;
  readonly backend?: string;
  readonly formats?: readonly ExportFormat[];
}

/** One row of the demo's table. */
export interface DemoRow {
  readonly configuration: string;
  readonly plan: string;
  readonly evaluation: RecognizerEvaluation;
}

/** What the demo measured and wrote. */
export interface DemoOutcome {
  readonly rows: readonly DemoRow[];
  /** The layers the mixed plan keeps at 16 bits, most sensitive first. */
  readonly sensitive: readonly UnitSensitivity[];
  readonly files: ExportedFiles;
  readonly elapsedMs: number;
}

const percent = (v: number) => `${(v * 100).toFixed(1)}%`;
const cerText = (v: number) => `${(v * 100).toFixed(2)}%`;

/**
 * `quantsim demo`: quantizes the bundled PaddleOCR recognizer on the shipped text lines. It
 * calibrates W8A8 (quantsim's defaults, bias correction included), measures which layers hurt most when quantized alone
 * (output SQNR with only that layer quantized, on a few calibration lines, so the choice never
 * sees the evaluation split), raises the most sensitive to 16 bits, evaluates float, W8A8 and
 * the mixed plan on the evaluation split, and exports the mixed plan.
 */
export async function demoCommand(options: DemoOptions, io: CommandIO): Promise<DemoOutcome> {
  const started = Date.now();
  const modelArg = 'paddleocr-rec';
  const out = options.out ?? path.join('out', 'paddleocr-rec');
  const dictionary = loadOcrDictionary();
  const calib = loadOcrLines('calibration', { dir: options.data, limit: options.calibSamples });
  const evaluation = loadOcrLines('evaluation', { dir: options.data, limit: options.evalSamples });
  const calibFeeds = calib.map((l) => ({ x: l.input }));
  const model = await loadModel(resolveModelArgument(modelArg));
  io.out(
    `PaddleOCR PP-OCRv4 recognizer: ${model.layers().length} layers; ${calib.length} calibration and ${evaluation.length} evaluation lines`,
  );
  const quant = createCliQuant({ warn: io.warn });
  let base = quant(model);
  if (options.backend) base = base.backend(options.backend);

  let task = io.progress('calibrating W8A8', calib.length);
  // One statistics pass serves two simulations: W8A8 as calibrate() gives it (bias correction on
  // its first 16 lines), and the same encodings without bias correction for the sensitivity
  // analysis, whose configurations turn quantizers off (corrected biases belong to the whole plan).
  const stats = await base.collectStats(calibFeeds, { onProgress: (p) => task.update(p.done) });
  const sim = await base.fromStats(stats, calibFeeds);
  const uncorrected = await base.biasCorrection(false).fromStats(stats);
  task.finish();
  const sims = [sim, uncorrected];
  try {
    const evaluate = async (label: string, run: Parameters<typeof evaluateRecognizer>[0]) => {
      const t = io.progress(`evaluating ${label}`, evaluation.length);
      const result = await evaluateRecognizer(run, evaluation, dictionary, (done) => t.update(done));
      t.finish();
      return result;
    };
    const float = await evaluate('float', (f) => sim.runFloat(f));
    const w8a8 = await evaluate('W8A8', (f) => sim.run(f));

    const count = options.sensitivitySamples ?? 4;
    let analysis: ProgressTask | undefined;
    const result = await analyzeSensitivity(uncorrected, {
      metric: outputSqnrMetric(calibFeeds.slice(0, count), (f) => sim.runFloat(f)),
      compareSamples: [],
      analyses: ['only-quantized'],
      ...(options.layers ? { layers: options.layers } : {}),
      onProgress: (p) => {
        analysis ??= io.progress('sensitivity', p.total);
        analysis.update(p.done, p.step);
      },
    });
    analysis?.finish();
    const sensitive = mostSensitiveUnits(result, options.sensitive ?? 20);
    const layers = [...new Set(sensitive.flatMap((u) => u.layers))];

    task = io.progress('calibrating mixed', calib.length);
    // Only the quantizers that changed get new encodings; the rest keep W8A8's.
    const mixedSim =
      layers.length === 0
        ? sim
        : await sim
            .edit()
            .layers(...layers)
            .activations(16)
            .params(16)
            .recalibrate()
            .calibrate(calibFeeds, {
              onProgress: (p) => task.update(p.done),
            });
    task.finish();
    if (mixedSim !== sim) sims.push(mixedSim);
    const mixed = await evaluate('mixed', (f) => mixedSim.run(f));

    const rows: DemoRow[] = [
      { configuration: 'float', plan: 'float32', evaluation: float },
      { configuration: 'W8A8', plan: 'a8w8 everywhere, tf-enhanced, per-channel', evaluation: w8a8 },
      { configuration: 'mixed', plan: `a8w8, a16w16 on the ${sensitive.length} most sensitive layers`, evaluation: mixed },
    ];
    io.out('');
    io.out(
      formatTable(
        ['configuration', 'plan', 'line accuracy', 'CER'],
        rows.map((r) => [
          r.configuration,
          r.plan,
          `${percent(r.evaluation.accuracy)} (${r.evaluation.exact}/${r.evaluation.lines})`,
          cerText(r.evaluation.cer),
        ]),
      ),
    );
    io.out('');
    io.out(
      `Most sensitive layers (output SQNR with only that layer quantized, on ${count} calibration lines; W8A8: ${result.quantized.toFixed(1)} dB):`,
    );
    io.out(
      formatTable(
        ['layer', 'op', 'SQNR alone'],
        sensitive.map((u) => [u.layers.join(' + '), u.opType ?? '', `${(u.onlyQuantized ?? Number.NaN).toFixed(1)} dB`]),
      ),
    );
    const files = await mixedSim.export(out, { formats: options.formats ?? DEFAULT_CLI_FORMATS });
    io.out('');
    for (const [format, file] of Object.entries(files)) io.out(`Wrote ${format.padEnd(14)} ${displayPath(file)}`);
    const elapsedMs = Date.now() - started;
    io.out(`Done in ${(elapsedMs / 1000).toFixed(0)} s.`);
    return { rows, sensitive, files, elapsedMs };
  } finally {
    for (const s of sims) await s.release();
  }
}
