/*
 * The JSON layouts of AIMET encodings files, as AIMET writes them.
 *
 * Checked against AIMET's source (github.com/quic/aimet):
 * - `Docs/api_docs/quantization_encoding_specification.rst`: versions 0.4.0 to 0.6.1 (dictionaries
 *   tensor → list of per-channel `Encoding`s, `is_symmetric` as the string "True"/"False",
 *   `quantizer_args`).
 * - `aimet_torch` `quantsim.py` `_export_encodings_to_files` and `_export_to_1_0_0`: the top-level
 *   keys `version`, `activation_encodings`, `param_encodings`, `excluded_layers`,
 *   `quantizer_args`; 1.0.0 entries `{name, dtype: "INT"|"FLOAT", enc_type, bw, is_sym, scale[],
 *   offset[]}`.
 * - `aimet_onnx` `quantsim.py` `_export_encodings` (2.0.0: `{version, encodings: [...]}`) and
 *   `qc_quantize_op.py` `_export_2_0_0_encodings` / `encodings.py` `AffineEncoding._to_2_0_0`:
 *   `{name, output_dtype, y_scale, y_zero_point (omitted when all zero), axis}`; float16
 *   quantizers get no 2.0.0 entry.
 * - `aimet_common` `utils.save_json_yaml`: `json.dump(..., sort_keys=True, indent=4)`.
 * - The published 2.0.0 spec (quic.github.io/aimet-pages, techniques/encoding_spec.html).
 */

/** The AIMET encodings format versions quantsim reads and writes. */
export type AimetEncodingsVersion = '0.6.1' | '1.0.0' | '2.0.0';

/** Every {@link AimetEncodingsVersion}, oldest first. */
export const AIMET_ENCODINGS_VERSIONS: readonly AimetEncodingsVersion[] = Object.freeze(['0.6.1', '1.0.0', '2.0.0']);

/** One channel of an integer encoding in the 0.6.1 layout (one list item per channel). */
export interface AimetLegacyIntEncoding {
  /** Bits of the integer grid. */
  readonly bitwidth: number;
  /** Always `int` for integer encodings. */
  readonly dtype: 'int';
  /** `"True"` or `"False"`: a string in AIMET's 0.6.1 files. */
  readonly is_symmetric: 'True' | 'False';
  /** Highest representable value. */
  readonly max: number;
  /** Lowest representable value (`offset * scale`). */
  readonly min: number;
  /** Integer offset of the unsigned grid, in [-(2^bitwidth - 1), 0]. */
  readonly offset: number;
  /** Step between grid points. */
  readonly scale: number;
}

/** A float (fp16) encoding in the 0.6.1 layout: AIMET writes only the width and `float`. */
export interface AimetLegacyFloatEncoding {
  /** Bits of the float format (16 for fp16). */
  readonly bitwidth: number;
  /** Always `float`. */
  readonly dtype: 'float';
}

/** One list item of a 0.6.1 entry. */
export type AimetLegacyEncoding = AimetLegacyIntEncoding | AimetLegacyFloatEncoding;

/**
 * The settings the simulation was configured with (`quantizer_args`), for information only;
 * AIMET fills it from its config defaults. quantsim fills it from the plan: the most common
 * activation and parameter bitwidths, the most common parameter dtype and symmetry, whether any
 * parameter is per-channel, and the most common scheme.
 */
export interface AimetQuantizerArgs {
  /** The bitwidth of most activation quantizers. */
  readonly activation_bitwidth: number;
  /** `int` or `float`: the dtype of most parameter quantizers. */
  readonly dtype: 'int' | 'float';
  /** Whether most parameter quantizers are symmetric. */
  readonly is_symmetric: boolean;
  /** The bitwidth of most parameter quantizers. */
  readonly param_bitwidth: number;
  /** Whether any parameter is quantized per channel. */
  readonly per_channel_quantization: boolean;
  /** AIMET's name of the scheme (`post_training_tf`, `post_training_tf_enhanced`…). */
  readonly quant_scheme: string;
}

/** A whole file in the 0.6.1 layout. */
export interface AimetEncodingsV061 {
  /** Output (and input) tensor encodings, by tensor name. */
  readonly activation_encodings: Readonly<Record<string, readonly AimetLegacyEncoding[]>>;
  /** Layers left unquantized. */
  readonly excluded_layers: readonly string[];
  /** Parameter encodings, by tensor name; one list item per channel. */
  readonly param_encodings: Readonly<Record<string, readonly AimetLegacyEncoding[]>>;
  /** The simulation's settings, for information. */
  readonly quantizer_args: AimetQuantizerArgs;
  /** `0.6.1`. */
  readonly version: '0.6.1';
}

/** An integer encoding in the 1.0.0 layout. */
export interface AimetV1IntEncoding {
  /** Bits of the integer grid. */
  readonly bw: number;
  /** Always `INT`. */
  readonly dtype: 'INT';
  /** `PER_TENSOR` (one scale) or `PER_CHANNEL` (one scale per channel; the axis is not recorded). */
  readonly enc_type: 'PER_TENSOR' | 'PER_CHANNEL';
  /** Whether the grid is symmetric (a JSON boolean). */
  readonly is_sym: boolean;
  /** The tensor name. */
  readonly name: string;
  /** Integer offsets of the unsigned grid, one per channel. */
  readonly offset: readonly number[];
  /** Steps, one per channel. */
  readonly scale: readonly number[];
}

/** A float (fp16) encoding in the 1.0.0 layout. */
export interface AimetV1FloatEncoding {
  /** Bits of the float format. */
  readonly bw: number;
  /** Always `FLOAT`. */
  readonly dtype: 'FLOAT';
  /** Always `PER_TENSOR`. */
  readonly enc_type: 'PER_TENSOR';
  /** The tensor name. */
  readonly name: string;
}

/** One list item of a 1.0.0 file. */
export type AimetV1Encoding = AimetV1IntEncoding | AimetV1FloatEncoding;

/** A whole file in the 1.0.0 layout. */
export interface AimetEncodingsV100 {
  /** Output (and input) tensor encodings. */
  readonly activation_encodings: readonly AimetV1Encoding[];
  /** Layers left unquantized. */
  readonly excluded_layers: readonly string[];
  /** Parameter encodings. */
  readonly param_encodings: readonly AimetV1Encoding[];
  /** The simulation's settings, for information. */
  readonly quantizer_args: AimetQuantizerArgs;
  /** `1.0.0`. */
  readonly version: '1.0.0';
}

/**
 * One encoding in the 2.0.0 layout, which mirrors ONNX `QuantizeLinear`: `y_zero_point` is the
 * ONNX zero point of `output_dtype`, not AIMET's offset.
 */
export interface AimetV2Encoding {
  /** The channel axis of a per-channel encoding; absent for per-tensor. */
  readonly axis?: number;
  /** The tensor name. */
  readonly name: string;
  /** `int8`, `uint8`, `int16`… (signed for symmetric, unsigned for asymmetric). */
  readonly output_dtype: string;
  /** The scale: a number per tensor, a list per channel. */
  readonly y_scale: number | readonly number[];
  /** The ONNX zero point; AIMET omits it when every zero point is 0. */
  readonly y_zero_point?: number | readonly number[];
}

/** A whole file in the 2.0.0 layout. Parameters and activations share one list. */
export interface AimetEncodingsV200 {
  /** Every integer encoding; float16 quantizers have none. */
  readonly encodings: readonly AimetV2Encoding[];
  /** `2.0.0`. */
  readonly version: '2.0.0';
}

/** A whole AIMET encodings file of any supported version. */
export type AimetEncodingsFile = AimetEncodingsV061 | AimetEncodingsV100 | AimetEncodingsV200;
