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
  /**
   * `true` for 2.0.0 entries of an unsigned type, whose symmetry is read from the grid: such a
   * grid is also a valid asymmetric one, so it agrees with an asymmetric quantizer as well.
   */
  readonly symmetryFromGrid?: true;
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
  | 'axis'
  /**
   * An int32 bias entry (2.0.0 files from AIMET 2.x) that is not the int32 bias of its layer: a
   * scale other than input scale × weight scale, or a layer whose input or weight the plan does
   * not quantize.
   */
  | 'int32Bias';

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

/**
 * A bias that AIMET 2.x exports as int32 (`export_int32_bias`): the bias of a Conv,
 * ConvTranspose or Gemm, or the rank-1 constant added to a MatMul's output (MatMul + Add), with
 * the quantizers its scale comes from (scale = input scale × weight scale).
 */
export interface Int32BiasLink {
  /** The bias tensor: the name its entry has in the file. */
  readonly bias: string;
  /** The layer (the MatMul for MatMul + Add). */
  readonly layer: string;
  /** The layer's op type. */
  readonly opType: 'Conv' | 'ConvTranspose' | 'Gemm' | 'MatMul';
  /** The weight's quantizer id (`param:<tensor>`). */
  readonly weight: string;
  /**
   * The quantizer of the layer's input 0: its own input quantizer, or the closest enabled
   * quantizer upstream through ops that keep values (Reshape, Flatten…); `undefined` when none.
   */
  readonly input: string | undefined;
  /** The weight axis of the output channels, which a per-channel weight must use. */
  readonly channelAxis: number;
  /** The number of bias values. */
  readonly channels: number;
}
