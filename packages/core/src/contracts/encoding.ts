/** One channel's (or the whole tensor's) quantization grid, in AIMET's terms. */
export interface ChannelEncoding {
  /** Lowest representable value: `offset * scale`. */
  readonly min: number;
  /** Highest representable value: `min + (2^bitwidth - 1 [- 1 if strict]) * scale`. */
  readonly max: number;
  /** Step between grid points (Δ). */
  readonly scale: number;
  /** Integer offset: grid point q represents `scale * (q + offset)`; in [-(2^b - 1), 0]. */
  readonly offset: number;
}

/**
 * The encoding of one quantizer. Integer encodings have one {@link ChannelEncoding} per tensor,
 * or one per channel along `axis`. Float encodings (fp16 simulation) have none.
 */
export interface Encoding {
  readonly dtype: 'int' | 'float';
  readonly bitwidth: number;
  readonly symmetric: boolean;
  /** Symmetric with one grid point dropped, so that the range is [-127, 127]Δ at 8 bits. */
  readonly strictSymmetric?: boolean;
  /** Symmetric encodings of non-negative data use offset 0 (AIMET's unsigned symmetric). */
  readonly unsignedSymmetric?: boolean;
  /** The channel axis of a per-channel encoding; absent for per-tensor. */
  readonly axis?: number;
  readonly channels: readonly ChannelEncoding[];
}

/** Encodings of a whole model, by quantizer id. */
export type EncodingMap = ReadonlyMap<string, Encoding>;
