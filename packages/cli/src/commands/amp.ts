import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type AmpCandidate,
  type AmpCostModel,
  type AmpResult,
  ampReportHtml,
  ampReportJson,
  autoMixedPrecision,
  candidateName,
  formatValue,
  outputSqnrMetric,
  type SensitivityMetric,
  top1AgreementMetric,
} from '@quantsim/analyze';
import { type FeedsLike, type TensorMap, writeFileAtomically } from '@quantsim/core';
import { loadOcrDictionary, loadOcrLines, ocrCerMetric, openNpySamples } from '@quantsim/data';
import { createCliQuant } from '../cli-quant.js';
import { CliInputError } from '../errors/cli-input-error.js';
import { loadScoredModel, openCalibration } from './cli-samples.js';
import { buildPlan, commaList, describePlan, type QuantPlanOptions } from './quant-options.js';
import type { CommandIO } from './quantize.js';
import type { AnalyzeMetric } from './sensitivity.js';

/** The candidates `quantsim amp` offers when `--candidates` is not given (as in issue 11's example). */
export const DEFAULT_AMP_CANDIDATES: readonly AmpCandidate[] = [
  { params: 8, activations: 8 },
  { params: 8, activations: 16 },
  { params: 16, activations: 16 },
];

/** Options of `quantsim amp`. */
export interface AmpCommandOptions extends QuantPlanOptions {
  /** Calibration `.npy` data; optional for the bundled recognizer (the shipped calibration split). */
  readonly calib?: string;
  /** Samples the metric runs on (`.npy`); default the first calibration samples. */
  readonly eval?: string;
  /** `sqnr` (default), `top1`, or `cer` (the bundled recognizer on the shipped evaluation lines). */
  readonly metric?: AnalyzeMetric;
  /** Samples of each full evaluation (default 8; 32 for `cer`). */
  readonly evalSamples?: number;
  /** Samples of each phase-1 (per-group sensitivity) evaluation (default: a quarter of them, at least 1). */
  readonly phase1Samples?: number;
  /** Calibration samples (default all). */
  readonly samples?: number;
  /** Largest acceptable drop from float, in the metric's unit. */
  readonly allowedDrop?: number;
  /** Or the score to reach. */
  readonly target?: number;
  readonly candidates?: readonly AmpCandidate[];
  readonly cost?: AmpCostModel;
  /** The shipped OCR lines folder (for the recognizer), default data/ocr-lines. */
  readonly data?: string;
  /** The output folder: plan.json, front.json, amp.html. */
  readonly out: string;
  /** Evaluation worker threads (`--workers`, a number or `auto`); default 1. */
  readonly workers?: number | 'auto';
}

/** What `quantsim amp` wrote and measured. */
export interface AmpOutcome {
  readonly plan: string;
  readonly json: string;
  readonly html: string;
  readonly result: Omit<AmpResult, 'sim' | 'saveConfig'>;
}

/**
 * Parses `--candidates`: comma-separated `W<params>A<activations>` (for example `W8A16`) or `fp16`.
 * @throws CliInputError naming the entry that is neither.
 */
export function parseCandidates(value: string | undefined): AmpCandidate[] | undefined {
  if (value === undefined) return undefined;
  const list = commaList(value);
  if (list.length < 2)
    throw new CliInputError(
      `--candidates ${value}`,
      'needs at least two candidates',
      'For example --candidates W8A8,W8A16,W16A16.',
    );
  return list.map((c) => {
    if (c.toLowerCase() === 'fp16') return 'fp16';
    const m = /^W(\d+)A(\d+)$/i.exec(c);
    if (!m)
      throw new CliInputError(
        `--candidates ${value}`,
        `'${c}' is not a candidate`,
        'Write each as W<weight bits>A<activation bits> (for example W8A16) or fp16.',
      );
    return { params: Number(m[1]), activations: Number(m[2]) };
  });
}

/** Parses a finite number flag. */
export function finiteNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new CliInputError(`${flag} ${value}`, 'is not a number', `For example ${flag} 0.5.`);
  return n;
}

/**
 * `quantsim amp`: automatic mixed precision in the manner of AIMET's AMP. Writes the chosen plan
 * as a config (`quantsim quantize --config <out>/plan.json` reproduces it), the Pareto front as
 * JSON and an HTML page with the front's chart and tables.
 */
export async function ampCommand(modelArg: string, options: AmpCommandOptions, io: CommandIO): Promise<AmpOutcome> {
  if ((options.allowedDrop === undefined) === (options.target === undefined))
    throw new CliInputError(
      '--allowed-drop / --target',
      'exactly one of them is needed',
      'For example --allowed-drop 0.5 (in the metric unit, from the float score) or --target 40.',
    );
  if ((options.metric ?? 'sqnr') === 'sqnr' && options.allowedDrop !== undefined)
    throw new CliInputError(
      `--allowed-drop ${options.allowedDrop}`,
      "cannot be used with --metric sqnr: the float model's SQNR against itself is infinite",
      'Give the SQNR to reach instead, for example --target 35 (dB), or use --metric top1 or cer.',
    );
  const info = await stat(options.out).catch(() => undefined);
  if (info && !info.isDirectory())
    throw new CliInputError(
      `--out ${options.out}`,
      'is a file, not a folder',
      'Give a folder for plan.json, front.json and amp.html.',
    );
  const { model, modelName, recognizer, metric: metricName } = await loadScoredModel(modelArg, options.metric);

  const { calibration, count: calibCount, first: firstSamples } = openCalibration(options, model, modelName, recognizer);
  const evalCount = options.evalSamples ?? (metricName === 'cer' ? 32 : 8);
  const phase1Count = Math.min(evalCount, options.phase1Samples ?? Math.max(1, Math.floor(evalCount / 4)));
  const candidates = options.candidates ?? DEFAULT_AMP_CANDIDATES;
  const quant = createCliQuant({ warn: io.warn });
  const builder = buildPlan(quant, model, modelName, options);
  io.out(`Model       ${modelArg}: plan ${describePlan(builder)}`);

  // The float reference of the SQNR and top-1 metrics: the model as prepared for the plan.
  const reference = await builder.simulate();
  try {
    const floatRun = (f: FeedsLike): Promise<TensorMap> => reference.runFloat(f);
    const metricOn = (count: number): SensitivityMetric => {
      if (metricName === 'cer')
        return ocrCerMetric(loadOcrLines('evaluation', { dir: options.data, limit: count }), loadOcrDictionary());
      const feeds = options.eval
        ? [...openNpySamples(options.eval, model.graph, modelName, '--eval').samples(count)]
        : firstSamples(count);
      return metricName === 'top1' ? top1AgreementMetric(feeds, floatRun) : outputSqnrMetric(feeds, floatRun);
    };
    const full = metricOn(evalCount);
    const quick = phase1Count === evalCount ? full : metricOn(phase1Count);
    io.out(
      `Metric      ${full.name} (${full.unit}, ${full.better} is better) on ${full.samples} samples, ${quick.samples} in phase 1`,
    );
    io.out(
      `Candidates  ${candidates.map(candidateName).join(', ')} (every group starts at the cheapest); cost ${options.cost ?? 'bops'}`,
    );
    const started = performance.now();
    let phase: string | undefined;
    let task: ReturnType<CommandIO['progress']> | undefined;
    const amp = await autoMixedPrecision(builder, {
      calibration,
      evaluate: (runner) => full.measure((f) => runner.run(f)),
      ...(quick === full ? {} : { evaluatePhase1: (runner) => quick.measure((f) => runner.run(f)) }),
      better: full.better,
      ...(options.allowedDrop !== undefined ? { allowedDrop: options.allowedDrop } : { target: options.target as number }),
      candidates,
      ...(options.cost ? { cost: options.cost } : {}),
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onProgress: (p) => {
        if (p.phase !== phase) {
          task?.finish();
          phase = p.phase;
          task = io.progress(
            p.phase === 'sensitivity' ? 'phase 1 (sensitivity)' : p.phase === 'pareto' ? 'phase 2 (front)' : 'final plan',
            p.total,
          );
        }
        task?.update(p.done);
      },
    });
    task?.finish();
    const elapsedMs = performance.now() - started;
    try {
      await mkdir(options.out, { recursive: true });
      const { sim: _sim, saveConfig: _save, ...result } = amp;
      const context = {
        model: modelArg,
        plan: describePlan(builder),
        metric: `${full.name} (${full.unit})`,
        better: full.better,
        candidates: candidates.map(candidateName),
        cost: options.cost ?? 'bops',
        calibrationSamples: calibCount,
        elapsedMs,
        generated: new Date().toISOString(),
      };
      const plan = path.join(options.out, 'plan.json');
      const json = path.join(options.out, 'front.json');
      const html = path.join(options.out, 'amp.html');
      await amp.saveConfig(plan);
      await writeFileAtomically(json, `${JSON.stringify(ampReportJson(result, context), null, 2)}\n`);
      await writeFileAtomically(html, ampReportHtml(result, context));
      const v = (x: number) => `${formatValue(x, full.unit === '%' ? 2 : 1)} ${full.unit}`;
      const start = candidateName(amp.start);
      const raised = amp.plan.filter((e) => candidateName(e.candidate) !== start);
      const quantizers = amp.plan.reduce((s, e) => s + e.quantizers.length, 0);
      const raisedQuantizers = raised.reduce((s, e) => s + e.quantizers.length, 0);
      io.out(`Float       ${v(amp.float)}; target ${v(amp.target)}`);
      io.out(
        `Chosen      ${v(amp.score)} (${amp.reached ? 'target reached' : 'target NOT reached'}), cost ${amp.cost.toFixed(4)} of float; ${raised.length} of ${amp.plan.length} groups (${raisedQuantizers} of ${quantizers} quantizers) above ${start}`,
      );
      io.out(`Front       ${amp.front.length} points in ${(elapsedMs / 1000).toFixed(1)} s`);
      io.out(`Wrote       ${plan} (quantsim quantize --config ${plan} reproduces the plan)`);
      io.out(`Wrote       ${json}`);
      io.out(`Wrote       ${html}`);
      return { plan, json, html, result };
    } finally {
      await amp.sim.release();
    }
  } finally {
    await reference.release();
  }
}
