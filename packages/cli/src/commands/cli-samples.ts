import path from 'node:path';
import { type FeedsLike, loadModel, type Model } from '@quantsim/core';
import { loadOcrLines, openNpySamples } from '@quantsim/data';
import { BUNDLED_MODELS, bundledAssetsDir, resolveModelArgument } from '../bundled-models.js';
import { CliInputError } from '../errors/cli-input-error.js';

/** Whether a resolved model path is the bundled PaddleOCR recognizer (which has shipped lines). */
export function isBundledRecognizer(resolved: string): boolean {
  const rec = BUNDLED_MODELS['paddleocr-rec'];
  return rec !== undefined && path.resolve(resolved) === path.resolve(bundledAssetsDir(), rec.file);
}

/** The calibration samples of `analyze` and `amp`: `--calib` `.npy` data, or the recognizer's shipped lines. */
export interface CliCalibration {
  readonly calibration: FeedsLike[] | (() => Iterable<FeedsLike>);
  readonly count: number;
  /** The first `n` calibration samples (the default evaluation samples). */
  readonly first: (n: number) => FeedsLike[];
}

/**
 * Opens `--calib` (at most `samples` of it), or, for the bundled recognizer without `--calib`,
 * the shipped calibration lines of `data` (default data/ocr-lines).
 * @throws CliInputError when neither is there.
 */
export function openCalibration(
  options: { readonly calib?: string; readonly samples?: number; readonly data?: string },
  model: Model,
  modelName: string,
  recognizer: boolean,
): CliCalibration {
  if (options.calib) {
    const data = openNpySamples(options.calib, model.graph, modelName);
    const count = Math.min(data.count, options.samples ?? data.count);
    return { calibration: () => data.samples(count), count, first: (n) => [...data.samples(Math.min(n, count))] };
  }
  if (recognizer) {
    const lines = loadOcrLines('calibration', { dir: options.data, limit: options.samples });
    const calibration = lines.map((l) => ({ x: l.input }));
    return { calibration, count: calibration.length, first: (n) => calibration.slice(0, n) };
  }
  throw new CliInputError(
    '--calib',
    `is required for ${modelName}`,
    'Give a .npy file or a folder of .npy files, one sample per file.',
  );
}

/** The model of `analyze`, `sensitivity` and `amp`, loaded, with the metric they score it by. */
export interface CommandModel {
  readonly model: Model;
  /** The file name, for messages. */
  readonly modelName: string;
  /** Whether it is the bundled recognizer (which has shipped lines and the `cer` metric). */
  readonly recognizer: boolean;
  readonly metric: 'sqnr' | 'top1' | 'cer';
}

/**
 * Loads `modelArg` (a path or a bundled name) for a command that scores it by `metric`.
 * @throws CliInputError for `--metric cer` on another model than the bundled recognizer.
 */
export async function loadScoredModel(modelArg: string, metric: 'sqnr' | 'top1' | 'cer' = 'sqnr'): Promise<CommandModel> {
  const resolved = resolveModelArgument(modelArg);
  const model = await loadModel(resolved);
  const modelName = path.basename(modelArg);
  const recognizer = isBundledRecognizer(resolved);
  if (metric === 'cer' && !recognizer)
    throw new CliInputError(
      '--metric cer',
      `needs the bundled recognizer, not ${modelName}`,
      'Use --metric sqnr or top1, or give paddleocr-rec as the model.',
    );
  return { model, modelName, recognizer, metric };
}
