import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  type AnalyzeOptions as AnalyzerOptions,
  analyze,
  formatValue,
  type QuantAnalysisReport,
  type SampleMetric,
  top1AgreementSampleMetric,
} from '@quantsim/analyze';
import { type FeedsLike, writeFileAtomically } from '@quantsim/core';
import { loadOcrDictionary, loadOcrLines, ocrCerSampleMetric, openNpySamples } from '@quantsim/data';
import { createCliQuant } from '../cli-quant.js';
import { CliInputError } from '../errors/cli-input-error.js';
import { loadScoredModel, openCalibration } from './cli-samples.js';
import { buildPlan, calibrationFlags, describePlan, type QuantPlanOptions } from './quant-options.js';
import type { CommandIO } from './quantize.js';
import { type AnalyzeMetric, checkReportFolder, reportFolderError } from './sensitivity.js';

export type { AnalyzeMetric } from './sensitivity.js';

/** What `quantsim analyze` writes into its `--out` folder. */
const REPORT_FILES = 'analysis.html and analysis.json';

/** Options of `quantsim analyze`. */
export interface AnalyzeOptions extends QuantPlanOptions {
  /** Calibration `.npy` data; optional for the bundled recognizer (the shipped calibration split). */
  readonly calib?: string;
  /** Samples every configuration is scored on (`.npy`); default the first calibration samples. */
  readonly eval?: string;
  /** `sqnr` (default): output SQNR; `top1`: top-1 agreement with float; `cer`: the recognizer's CER on the shipped evaluation lines. */
  readonly metric?: AnalyzeMetric;
  /** Evaluation samples (default 8; 16 for `cer`). */
  readonly evalSamples?: number;
  /** Calibration samples (default all). */
  readonly samples?: number;
  /** `screened` (default) or `exhaustive`: see `analyze()`'s `search`. */
  readonly search?: 'screened' | 'exhaustive';
  /** Worker threads for the configurations' runs (a number or `auto`); default 1. */
  readonly workers?: number | 'auto';
  /** The shipped OCR lines folder (for the recognizer), default data/ocr-lines. */
  readonly data?: string;
  /** The report folder: analysis.html and analysis.json. */
  readonly out: string;
}

/** What `quantsim analyze` wrote and measured. */
export interface AnalyzeOutcome {
  readonly html: string;
  readonly json: string;
  readonly report: QuantAnalysisReport;
}

/**
 * `quantsim analyze`: the quant analyzer, `analyze()` of `@quantsim/analyze` (each layer alone
 * quantized and left in float, weights and activations apart, 16 bits, findings with their
 * fixes), written as a self-contained HTML report and a JSON file. The CLI only gathers the
 * data and the metric and prints the summary; the analysis is the library's.
 */
export async function analyzeCommand(modelArg: string, options: AnalyzeOptions, io: CommandIO): Promise<AnalyzeOutcome> {
  // Checked before the (long) calibration and analysis, so a wrong --out costs nothing.
  await checkReportFolder(options.out, REPORT_FILES);
  const { model, modelName, recognizer, metric: metricName } = await loadScoredModel(modelArg, options.metric);
  const { calibration, count: calibCount, first: firstSamples } = openCalibration(options, model, modelName, recognizer);
  const evalCount = options.evalSamples ?? (metricName === 'cer' ? 16 : 8);
  const nonFinite = calibrationFlags(options).nonFinite;
  const quant = createCliQuant({ warn: io.warn });
  // analyze() measures the quantizers themselves: every configuration shares one model, so no
  // bias correction (it turns it off itself; the plan printed says so).
  const builder = buildPlan(quant, model, modelName, options).biasCorrection(false);
  io.out(`Model       ${modelArg}: plan ${describePlan(builder)}`);

  let evaluation: readonly FeedsLike[];
  let scoring: Pick<AnalyzerOptions, 'metric' | 'better' | 'metricName' | 'metricUnit'> = {};
  if (metricName === 'cer') {
    const cer = ocrCerSampleMetric(loadOcrLines('evaluation', { dir: options.data, limit: evalCount }), loadOcrDictionary());
    evaluation = cer.evaluation;
    scoring = { metric: cer.metric, better: 'lower', metricName: 'CER', metricUnit: '%' };
  } else {
    evaluation = options.eval
      ? [...openNpySamples(options.eval, model.graph, modelName, '--eval').samples(evalCount)]
      : firstSamples(evalCount);
    if (metricName === 'top1') {
      // The float reference: the model as prepared for the plan, as the analysis's own float run.
      const reference = await builder.simulate();
      let metric: SampleMetric;
      try {
        metric = await top1AgreementSampleMetric(evaluation, (f) => reference.runFloat(f));
      } finally {
        await reference.release();
      }
      scoring = { metric, better: 'higher', metricName: 'top-1 agreement', metricUnit: '%' };
    }
  }
  if (evaluation.length === 0)
    throw new CliInputError('--eval', 'gave no samples', 'Give a .npy file or folder with at least one sample.');
  io.out(
    `Metric      ${scoring.metricName ?? 'output SQNR'} (${scoring.metricUnit ?? 'dB'}, ${scoring.better ?? 'higher'} is better) on ${evaluation.length} sample${evaluation.length === 1 ? '' : 's'}`,
  );

  let task: ReturnType<CommandIO['progress']> | undefined;
  const report = await analyze(builder, {
    calibration,
    evaluation,
    ...scoring,
    ...(nonFinite ? { nonFinite } : {}),
    ...(options.search ? { search: options.search } : {}),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    onProgress: (p) => {
      task ??= io.progress('analyzing', p.total);
      task.update(p.done, p.step);
    },
  });
  task?.finish();

  try {
    await mkdir(options.out, { recursive: true });
  } catch (e) {
    throw reportFolderError(options.out, (e as NodeJS.ErrnoException).code, REPORT_FILES);
  }
  const html = path.join(options.out, 'analysis.html');
  const json = path.join(options.out, 'analysis.json');
  const context = {
    model: modelArg,
    plan: describePlan(builder),
    calibrationSamples: calibCount,
    generated: new Date().toISOString(),
  };
  await writeFileAtomically(json, `${JSON.stringify({ context, ...(report.toJSON() as object) }, null, 2)}\n`);
  await report.writeHtml(html);

  const unit = report.metric.unit;
  const v = (x: number | undefined) => `${formatValue(x, unit === '%' ? 2 : 1)}${unit ? ` ${unit}` : ''}`;
  const m = report.model;
  io.out(`Float       ${v(m.float)}`);
  io.out(
    `Quantized   ${v(m.quantized)} (weights only ${v(m.weightsOnly)}, activations only ${v(m.activationsOnly)}, all at 16 bits ${v(m.all16)})`,
  );
  // A screened layer's score is its block's: the layer alone does at least as well.
  const bound = report.metric.better === 'higher' ? '≥ ' : '≤ ';
  for (const l of report.layers.slice(0, 5))
    io.out(
      `Worst       ${l.layer} (${l.opType ?? '?'}): only this quantized ${l.screened ? bound : ''}${v(l.onlyThisQuantized)}, all but this ${v(l.allButThisQuantized)}`,
    );
  for (const f of report.findings.slice(0, 8)) io.out(`Finding     ${f.layer}: ${f.kind}, ${f.detail}. Fix: ${f.fix}`);
  if (report.findings.length > 8) io.out(`            (${report.findings.length - 8} more findings in ${json})`);
  io.out(
    `Analyzed    ${report.layers.length} layers, ${report.configurations} configurations (${report.search}) in ${(report.elapsedMs / 1000).toFixed(1)} s`,
  );
  io.out(`Wrote       ${html}`);
  io.out(`Wrote       ${json}`);
  return { html, json, report };
}
