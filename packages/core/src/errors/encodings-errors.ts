import type { EncodingMismatch } from '../contracts/aimet-encodings.js';
import { QuantsimError, type QuantsimErrorOptions } from './quantsim-error.js';

/** One problem in an encodings file: where it is (a JSON path such as `$.param_encodings[0].bw`) and what is wrong. */
export interface EncodingsFormatProblem {
  /** JSONPath of the offending value; `$` is the whole file. */
  readonly path: string;
  /** What is wrong with it, naming the value found and the value expected. */
  readonly problem: string;
}

/** Lists items one per line after a summary; a single item stays on the summary's line. */
function listed(summary: string, lines: readonly string[]): string {
  if (lines.length === 1) return `${summary}: ${lines[0]}.`;
  return `${summary}:\n${lines.map((l) => `  - ${l}`).join('\n')}\n`;
}

/**
 * An encodings file could not be read: not JSON, not an AIMET encodings file, an unsupported
 * version or feature, or malformed entries. Every problem found is listed, each with its JSON path.
 */
export class EncodingsFormatError extends QuantsimError {
  /** The file name, or `<encodings>` when parsed from memory. */
  readonly source: string;
  /** Every problem found, in file order. */
  readonly problems: readonly EncodingsFormatProblem[];

  constructor(source: string, problems: readonly EncodingsFormatProblem[], options: QuantsimErrorOptions = {}) {
    const lines = problems.map((p) => `${p.path}: ${p.problem}`);
    const summary =
      problems.length === 1
        ? `Cannot read AIMET encodings ${source}`
        : `Cannot read AIMET encodings ${source} (${problems.length} problems)`;
    super('ENCODINGS_FORMAT', listed(summary, lines), {
      hint:
        options.hint ??
        'Encodings files must be AIMET encodings (version 0.6.1, 1.0.0 or 2.0.0) as written by AIMET or quantsim; fix the values named above or export the file again.',
      cause: options.cause,
    });
    this.source = source;
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * An encodings file disagrees with the quantization plan. Thrown by strict matching with every
 * disagreement at once: each names the tensor, the field, the file's value and the plan's value.
 */
export class EncodingsMismatchError extends QuantsimError {
  /** The file name, or `<encodings>` when parsed from memory. */
  readonly source: string;
  /** Every disagreement, in file order, then plan quantizers the file does not cover. */
  readonly mismatches: readonly EncodingMismatch[];

  constructor(source: string, mismatches: readonly EncodingMismatch[], options: QuantsimErrorOptions = {}) {
    const summary = `Encodings ${source} disagree with the quantization plan in ${mismatches.length} place${mismatches.length === 1 ? '' : 's'}`;
    super(
      'ENCODINGS_MISMATCH',
      listed(
        summary,
        mismatches.map((m) => m.message),
      ),
      {
        hint:
          options.hint ??
          'Load only the encodings that match with loadEncodings(file, { strict: false }) (the others become warnings), or change the plan (bitwidth, symmetry, per-channel, enabled quantizers) so that it agrees with the file.',
        cause: options.cause,
      },
    );
    this.source = source;
    this.mismatches = Object.freeze([...mismatches]);
  }
}

/**
 * Encodings could not be written: a quantizer has no encoding, two quantizers of one tensor
 * disagree, or a value cannot be expressed in the chosen format. Every problem is listed.
 */
export class EncodingsExportError extends QuantsimError {
  /** Every problem found, one sentence each. */
  readonly problems: readonly string[];

  constructor(what: string, problems: readonly string[], options: QuantsimErrorOptions = {}) {
    super('EXPORT', listed(`Cannot export ${what}`, problems), options);
    this.problems = Object.freeze([...problems]);
  }
}
