import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  analyzeSensitivity,
  formatValue,
  mostSensitiveUnits,
  outputSqnrMetric,
  SENSITIVITY_ANALYSES,
  type SensitivityAnalysis,
  type SensitivityMetric,
  type SensitivityResult,
  sensitivityReportHtml,
  sensitivityReportJson,
  top1AgreementMetric,
} from '@quantsim/analyze';
import { writeFileAtomically } from '@quantsim/core';
import { loadOcrDictionary, loadOcrLines, ocrCerMetric, openNpySamples } from '@quantsim/data';
import { createCliQuant } from '../cli-quant.js';
import { CliInputError } from '../errors/cli-input-error.js';
import type { ProgressTask } from '../progress.js';
import { loadScoredModel, openCalibration } from './cli-samples.js';
import { buildPlan, calibrationFlags, commaList, describePlan, type QuantPlanOptions } from './quant-options.js';
import type { CommandIO } from './quantize.js';

/** The metrics `analyze`, `sensitivity` and `amp` offer. */
export type AnalyzeMetric = 'sqnr' | 'top1' | 'cer';

/** What `quantsim sensitivity` writes into its `--out` folder. */
const REPORT_FILES = 'sensitivity.html and sensitivity.json';

/** Options of `quantsim sensitivity`. */
export interface SensitivityCommandOptions extends QuantPlanOptions {
  /** Calibration `.npy` data; optional for the bundled recognizer (the shipped calibration split). */
  readonly calib?: string;
  /** Samples the metric runs on (`.npy`); default the first calibration samples. */
  readonly eval?: string;
  /** `sqnr` (default): output SQNR; `top1`: top-1 agreement with float; `cer`: the recognizer's CER on the shipped evaluation split. */
  readonly metric?: AnalyzeMetric;
  /** Samples per measurement (default 4; 16 for `cer`). */
  readonly evalSamples?: number;
  /** Calibration samples (default all). */
  readonly samples?: number;
  /** Only layers matching this are analyzed one by one. */
  readonly layers?: RegExp;
  readonly analyses?: readonly SensitivityAnalysis[];
  /** The report folder. */
  readonly out: string;
  /** The shipped OCR lines folder (for the recognizer), default data/ocr-lines. */
  readonly data?: string;
}

/** What `quantsim sensitivity` wrote and measured. */
export interface SensitivityOutcome {
  readonly html: string;
  readonly json: string;
  readonly result: SensitivityResult;
}

/**
 * Parses `--analyses`: a comma-separated subset of the analyses.
 * @throws CliInputError naming the unknown analysis.
 */
export function parseAnalyses(value: string | undefined): SensitivityAnalysis[] | undefined {
  if (value === undefined) return undefined;
  const list = commaList(value);
  for (const a of list)
    if (!SENSITIVITY_ANALYSES.includes(a as SensitivityAnalysis))
      throw new CliInputError(
        `--analyses ${value}`,
        `'${a}' is not an analysis`,
        `Analyses: ${SENSITIVITY_ANALYSES.join(', ')}.`,
      );
  return list as SensitivityAnalysis[];
}

/**
 * `--out` must be a folder that exists or can be made: an existing file there is an error.
 * `contents` names what goes into it, for the message.
 */
export async function checkReportFolder(out: string, contents: string): Promise<void> {
  const info = await stat(out).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : e));
  if (info instanceof Error) throw reportFolderError(out, info.code, contents);
  if (info && !info.isDirectory()) throw reportFolderError(out, 'EEXIST', contents);
}

/** The report folder cannot be used: why, and what to give instead. */
export function reportFolderError(out: string, code: string | undefined, contents: string): CliInputError {
  if (code === 'EEXIST' || code === 'ENOTDIR')
    return new CliInputError(
      `--out ${out}`,
      'is a file (or lies under one), not a folder',
      `Give a folder for ${contents}, for example --out report.`,
    );
  return new CliInputError(
    `--out ${out}`,
    `cannot be used as the report folder (${code ?? 'unknown error'})`,
    'Give a folder you can write to.',
  );
}

/**
 * `quantsim sensitivity`: the per-layer sensitivity tables of AIMET's QuantAnalyzer (per-layer
 * SQNR, each layer alone quantized and alone in float, weights against activations) through
 * `analyzeSensitivity`, written as a self-contained HTML report and a JSON file of the numbers.
 * `quantsim analyze` runs the quant analyzer (`analyze()`: findings and fixes) instead.
 */
export async function sensitivityCommand(
  modelArg: string,
  options: SensitivityCommandOptions,
  io: CommandIO,
): Promise<SensitivityOutcome> {
  // Checked before the (long) calibration and analysis, so a wrong --out costs nothing.
  await checkReportFolder(options.out, REPORT_FILES);
  const { model, modelName, recognizer, metric: metricName } = await loadScoredModel(modelArg, options.metric);
  const { calibration, count: calibCount, first: firstSamples } = openCalibration(options, model, modelName, recognizer);
  const evalCount = options.evalSamples ?? (metricName === 'cer' ? 16 : 4);
  const evalFeeds = options.eval
    ? [...openNpySamples(options.eval, model.graph, modelName, '--eval').samples(evalCount)]
    : metricName === 'cer'
      ? []
      : firstSamples(evalCount);
  const quant = createCliQuant({ warn: io.warn });
  // Every configuration turns quantizers off, so biases must stay as they are (as analyze() does).
  const builder = buildPlan(quant, model, modelName, options).biasCorrection(false);
  io.out(`Model       ${modelArg}: plan ${describePlan(builder)}`);
  const task = io.progress('calibrating', calibCount);
  const sim = await builder.calibrate(calibration, {
    ...calibrationFlags(options),
    onProgress: (p) => task.update(p.done),
  });
  task.finish();
  try {
    let metric: SensitivityMetric;
    if (metricName === 'cer') {
      metric = ocrCerMetric(loadOcrLines('evaluation', { dir: options.data, limit: evalCount }), loadOcrDictionary());
    } else if (metricName === 'top1') {
      metric = top1AgreementMetric(evalFeeds, (f) => sim.runFloat(f));
    } else {
      metric = outputSqnrMetric(evalFeeds, (f) => sim.runFloat(f));
    }
    const compareSamples = (evalFeeds.length > 0 ? evalFeeds : firstSamples(4)).slice(0, 4);
    io.out(
      `Metric      ${metric.name} (${metric.unit}, ${metric.better} is better) on ${metric.samples} sample${metric.samples === 1 ? '' : 's'}`,
    );
    let analysis: ProgressTask | undefined;
    let analysisSteps = 0;
    const result = await analyzeSensitivity(sim, {
      metric,
      compareSamples,
      ...(options.layers ? { layers: options.layers } : {}),
      ...(options.analyses ? { analyses: options.analyses } : {}),
      onProgress: (p) => {
        analysisSteps = p.total;
        analysis ??= io.progress('analyzing', p.total);
        analysis.update(p.done, p.step);
      },
    });
    analysis?.finish();
    const context = {
      model: modelArg,
      plan: describePlan(builder),
      calibrationSamples: calibCount,
      backend: sim.backend.name,
      generated: new Date().toISOString(),
    };
    try {
      await mkdir(options.out, { recursive: true });
    } catch (e) {
      throw reportFolderError(options.out, (e as NodeJS.ErrnoException).code, REPORT_FILES);
    }
    const html = path.join(options.out, 'sensitivity.html');
    const json = path.join(options.out, 'sensitivity.json');
    await writeFileAtomically(html, sensitivityReportHtml(result, context));
    await writeFileAtomically(json, `${JSON.stringify(sensitivityReportJson(result, context), null, 2)}\n`);
    const v = (x: number | undefined) => `${formatValue(x, metric.unit === '%' ? 2 : 1)} ${metric.unit}`;
    io.out(`Float       ${v(result.float)}`);
    io.out(`Quantized   ${v(result.quantized)}`);
    if (result.weightsOnly !== undefined) io.out(`Weights     ${v(result.weightsOnly)} (only weights quantized)`);
    if (result.activationsOnly !== undefined) io.out(`Activations ${v(result.activationsOnly)} (only activations quantized)`);
    const top = mostSensitiveUnits(result, 5);
    if (top.length > 0) io.out(`Sensitive   ${top.map((u) => `${u.unit} (${v(u.onlyQuantized ?? u.onlyFloat)})`).join(', ')}`);
    // The progress counts steps; say how they add up, so the two counts never seem to disagree.
    const steps = analysis === undefined ? result.configurations : analysisSteps;
    const extra = steps - result.configurations;
    io.out(
      `Analyzed    ${result.units.length} of ${result.unitCount} layers, ${result.configurations} simulations${extra > 0 ? ` (${steps} steps with the float run${extra > 1 ? ' and the per-layer comparison' : ''})` : ''} in ${(result.elapsedMs / 1000).toFixed(1)} s`,
    );
    io.out(`Wrote       ${html}`);
    io.out(`Wrote       ${json}`);
    return { html, json, result };
  } finally {
    await sim.release();
  }
}
