import type { AimetEncodingsVersion } from './aimet-format.js';
import type { Encoding } from './encoding.js';

/** One tensor's encoding read from an AIMET encodings file. */
export interface ParsedEncoding {
  /** The tensor name the file gives. */
  readonly tensor: string;
  /**
   * The section it came from: `activation` (`activation_encodings`) or `param`
   * (`param_encodings`); `undefined` in 2.0.0 files, whose single list does not say.
   */
  readonly kind: 'activation' | 'param' | undefined;
  /** JSONPath of the entry, for messages. */
  readonly path: string;
  /**
   * The encoding. Per-channel encodings of 0.6.1 and 1.0.0 files have no `axis` (those formats
   * do not record it); matching takes it from the plan.
   */
  readonly encoding: Encoding;
  /**
   * Whether the file says per-channel: 0.6.1 entries with several items, 1.0.0 `PER_CHANNEL`,
   * 2.0.0 entries with an `axis`. `undefined` when the file cannot tell (a 0.6.1 entry with one item).
   */
  readonly perChannel: boolean | undefined;
}

/** The content of an AIMET encodings file, checked and converted to quantsim's {@link Encoding}s. */
export interface ParsedEncodings {
  /** The file name given to the parser, or `<encodings>`. */
  readonly source: string;
  /** The layout the file uses; files without `version` that have 0.6.1's layout read as 0.6.1. */
  readonly version: AimetEncodingsVersion;
  /** The `version` string as written (`0.4.0`, `0.6.1`…), or `undefined` when the file has none. */
  readonly declaredVersion: string | undefined;
  /** Every encoding, in file order (activations, then parameters, for 0.6.1 and 1.0.0). */
  readonly entries: readonly ParsedEncoding[];
  /** `excluded_layers`, or an empty list. */
  readonly excludedLayers: readonly string[];
  /** `quantizer_args` as written, for information; `undefined` when absent. */
  readonly quantizerArgs: Readonly<Record<string, unknown>> | undefined;
}

/** The setting on which a file and the plan disagree. */
export type EncodingMismatchField =
  /** The file has a tensor the plan does not quantize. */
  | 'name'
  /** The file lists a parameter as an activation or the reverse. */
  | 'kind'
  /** The plan has an enabled quantizer the file has no encoding for. */
  | 'missing'
  /** The file has an encoding for a quantizer the plan disables. */
  | 'enabled'
  | 'dtype'
  | 'bitwidth'
  | 'symmetric'
  | 'strictSymmetric'
  | 'unsignedSymmetric'
  | 'perChannel'
  | 'axis';

/** One disagreement between an encodings file and the quantization plan. */
export interface EncodingMismatch {
  /** The tensor, as named in the file (or in the plan for `missing`). */
  readonly tensor: string;
  /** The plan's quantizer concerned; `undefined` when the plan has none for the tensor. */
  readonly quantizerId: string | undefined;
  /** The setting that differs. */
  readonly field: EncodingMismatchField;
  /** The file's value; `undefined` when the file has no entry. */
  readonly fileValue: string | number | boolean | undefined;
  /** The plan's value; `undefined` when the plan has no quantizer. */
  readonly planValue: string | number | boolean | undefined;
  /** JSONPath of the file's entry; `undefined` for `missing`. */
  readonly path: string | undefined;
  /** One line naming the tensor, the field, the file's value and the plan's value. */
  readonly message: string;
}
