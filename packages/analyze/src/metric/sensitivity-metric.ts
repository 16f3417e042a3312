import { type FeedsLike, QuantsimError, type TensorMap } from '@quantsim/core';
import { outputSqnrDb } from './output-sqnr.js';

/** A user's score of one sample's outputs (accuracy, negative loss, error rate…), as `analyze()` takes it. */
export type SampleMetric = (outputs: TensorMap, sample: FeedsLike) => number;

/** Runs one configuration of the model (float, or a simulation) on one sample. */
export type ModelRunner = (feeds: FeedsLike) => Promise<TensorMap>;

/** What sensitivity analysis measures for each configuration of the model. */
export interface SensitivityMetric {
  /** For tables and charts, e.g. `output SQNR`, `CER`. */
  readonly name: string;
  /** The unit of the values, e.g. `dB`, `%`. */
  readonly unit: string;
  /** Whether larger values are better (SQNR, accuracy) or worse (error rates). */
  readonly better: 'higher' | 'lower';
  /** Samples each measurement runs. */
  readonly samples: number;
  /** Measures one configuration. */
  measure(run: ModelRunner): Promise<number>;
}

/**
 * The default metric: SQNR of the model outputs, 10·log10(Σ float² / Σ (float − quantized)²)
 * over every float output of every sample, against the float model's own outputs (computed once,
 * on first use, with `floatRun`). Infinity when the outputs are identical.
 */
export function outputSqnrMetric(samples: readonly FeedsLike[], floatRun: ModelRunner): SensitivityMetric {
  let reference: Promise<TensorMap[]> | undefined;
  return {
    name: 'output SQNR',
    unit: 'dB',
    better: 'higher',
    samples: samples.length,
    async measure(run) {
      reference ??= (async () => {
        const out: TensorMap[] = [];
        for (const s of samples) out.push(await floatRun(s));
        return out;
      })();
      const expected = await reference;
      const got: TensorMap[] = [];
      for (const s of samples) got.push(await run(s));
      return outputSqnrDb(expected, got);
    },
  };
}

/**
 * Top-1 agreement with the float model, in percent: the share of rows of the first output
 * (every position but the last axis, which holds the classes) whose highest class is the same
 * as the float model's. For classifiers and per-position recognizers.
 */
export function top1AgreementMetric(samples: readonly FeedsLike[], floatRun: ModelRunner): SensitivityMetric {
  let reference: Promise<Int32Array[]> | undefined;
  return {
    name: 'top-1 agreement',
    unit: '%',
    better: 'higher',
    samples: samples.length,
    async measure(run) {
      reference ??= (async () => {
        const out: Int32Array[] = [];
        for (const s of samples) out.push(argmaxRows(firstOutput(await floatRun(s))));
        return out;
      })();
      const expected = await reference;
      let same = 0;
      let rows = 0;
      for (const [i, s] of samples.entries()) {
        const want = expected[i] ?? new Int32Array(0);
        const got = argmaxRows(firstOutput(await run(s)));
        for (let r = 0; r < want.length; r++) if (want[r] === got[r]) same++;
        rows += want.length;
      }
      return rows === 0 ? 0 : (100 * same) / rows;
    },
  };
}

/**
 * Top-1 agreement with the float model as a per-sample metric, for `analyze()`: a sample's
 * share of rows (as in {@link top1AgreementMetric}) whose highest class is the float model's, in
 * percent. The float model runs each of `samples` once, here; the metric knows the samples by
 * these very objects. Averaged over samples with the same number of rows, it equals
 * {@link top1AgreementMetric}.
 * @throws QuantsimError (`INVALID_ARGUMENT`) from the metric, for a sample not among `samples`.
 */
export async function top1AgreementSampleMetric(samples: readonly FeedsLike[], floatRun: ModelRunner): Promise<SampleMetric> {
  const expected = new Map<FeedsLike, Int32Array>();
  for (const s of samples) expected.set(s, argmaxRows(firstOutput(await floatRun(s))));
  return (outputs, sample) => {
    const want = expected.get(sample);
    if (!want)
      throw new QuantsimError(
        'INVALID_ARGUMENT',
        'top1AgreementSampleMetric was asked to score a sample it has no float result for.',
        {
          hint: 'Score the same sample objects the metric was made with.',
        },
      );
    const got = argmaxRows(firstOutput(outputs));
    let same = 0;
    for (let r = 0; r < want.length; r++) if (want[r] === got[r]) same++;
    return want.length === 0 ? 0 : (100 * same) / want.length;
  };
}

function firstOutput(outputs: TensorMap): { data: Float32Array; classes: number } {
  const first = Object.values(outputs)[0];
  const data = first?.data instanceof Float32Array ? first.data : new Float32Array(0);
  return { data, classes: first?.dims[first.dims.length - 1] ?? 1 };
}

function argmaxRows({ data, classes }: { data: Float32Array; classes: number }): Int32Array {
  const rows = Math.floor(data.length / Math.max(1, classes));
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if ((data[r * classes + k] as number) > (data[r * classes + best] as number)) best = k;
    out[r] = best;
  }
  return out;
}
