import type { CalibrationStats, Feeds, FeedsLike, TensorStats } from '@quantsim/core';
import { decodeNpy, encodeNpy } from '@quantsim/data';
import { z } from 'zod';

/** A number as JSON carries it: finite numbers as they are, ±Infinity and NaN by name. */
export const jsonNumber = z.union([z.number(), z.enum(['Infinity', '-Infinity', 'NaN'])]);
/** A number as JSON carries it. */
export type JsonNumber = z.infer<typeof jsonNumber>;

/** The wire form of {@link TensorStats}: JSON-safe (no Infinity, no typed arrays). */
export interface EncodedTensorStats {
  readonly count: number;
  readonly min: JsonNumber;
  readonly max: JsonNumber;
  readonly nonFinite: number;
  readonly histogram?: { readonly log2Width: number; readonly first: number; readonly counts: readonly number[] };
  readonly axis?: number;
  readonly channels?: readonly EncodedTensorStats[];
}

const encodedTensorStats: z.ZodType<EncodedTensorStats> = z.lazy(() =>
  z.strictObject({
    count: z.number().int().nonnegative(),
    min: jsonNumber,
    max: jsonNumber,
    nonFinite: z.number().int().nonnegative(),
    histogram: z
      .strictObject({
        log2Width: z.number().int(),
        first: z.number().int(),
        counts: z.array(z.number().nonnegative()),
      })
      .optional(),
    axis: z.number().int().optional(),
    channels: z.array(encodedTensorStats).optional(),
  }),
);

/** The wire form of {@link CalibrationStats}, as workers store it in Redis. */
export const encodedStatsSchema = z.strictObject({
  samples: z.number().int().positive(),
  tensors: z.record(z.string(), encodedTensorStats),
});

/** Statistics as workers store them in Redis. */
export type EncodedStats = z.infer<typeof encodedStatsSchema>;

/** A number for JSON: ±Infinity and NaN by name, the others as they are (JSON keeps every double's bits). */
export function toJsonNumber(x: number): JsonNumber {
  return Number.isFinite(x) ? x : (String(x) as JsonNumber);
}

/** The number that {@link toJsonNumber} wrote. */
export function fromJsonNumber(x: JsonNumber): number {
  return typeof x === 'number' ? x : Number(x);
}

function encodeTensor(s: TensorStats): EncodedTensorStats {
  return {
    count: s.count,
    min: toJsonNumber(s.min),
    max: toJsonNumber(s.max),
    nonFinite: s.nonFinite,
    ...(s.histogram
      ? { histogram: { log2Width: s.histogram.log2Width, first: s.histogram.first, counts: Array.from(s.histogram.counts) } }
      : {}),
    ...(s.axis !== undefined ? { axis: s.axis } : {}),
    ...(s.channels ? { channels: s.channels.map(encodeTensor) } : {}),
  };
}

function decodeTensor(s: EncodedTensorStats): TensorStats {
  return {
    count: s.count,
    min: fromJsonNumber(s.min),
    max: fromJsonNumber(s.max),
    nonFinite: s.nonFinite,
    ...(s.histogram
      ? {
          histogram: {
            log2Width: s.histogram.log2Width,
            first: s.histogram.first,
            counts: Float64Array.from(s.histogram.counts),
          },
        }
      : {}),
    ...(s.axis !== undefined ? { axis: s.axis } : {}),
    ...(s.channels ? { channels: s.channels.map(decodeTensor) } : {}),
  };
}

/**
 * Statistics as JSON text. Exact: counts are integers, and JSON writes every finite double so
 * that it reads back to the same bits.
 */
export function encodeStats(stats: CalibrationStats): string {
  const tensors: Record<string, EncodedTensorStats> = {};
  for (const [name, s] of Object.entries(stats.tensors)) tensors[name] = encodeTensor(s);
  return JSON.stringify({ samples: stats.samples, tensors });
}

/** Reads statistics written by {@link encodeStats}, validating them first. */
export function decodeStats(text: string): CalibrationStats {
  const parsed = encodedStatsSchema.parse(JSON.parse(text));
  const tensors: Record<string, TensorStats> = {};
  for (const [name, s] of Object.entries(parsed.tensors)) tensors[name] = decodeTensor(s);
  return { samples: parsed.samples, tensors };
}

/** One sample's tensors as base64 `.npy` files, by input name: how in-memory feeds travel in jobs. */
export type EncodedFeeds = Readonly<Record<string, string>>;

/** Encodes one sample's feeds for a job. */
export function encodeFeeds(feeds: Feeds | FeedsLike): EncodedFeeds {
  const out: Record<string, string> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = Buffer.from(encodeNpy(t.data, t.dims)).toString('base64');
  return out;
}

/** Decodes one sample's feeds from a job. */
export function decodeFeeds(encoded: EncodedFeeds, where: string): Feeds {
  const out: Record<string, Feeds[string]> = {};
  for (const [name, text] of Object.entries(encoded)) {
    const array = decodeNpy(new Uint8Array(Buffer.from(text, 'base64')), `${where} input '${name}'`);
    out[name] = { type: array.dtype, data: array.data, dims: array.shape };
  }
  return out;
}
