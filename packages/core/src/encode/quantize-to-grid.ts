import type { Encoding } from '../contracts/encoding.js';
import { gridSteps } from './grid.js';
import { roundHalfEven } from './rounding.js';

/**
 * Quantizes values onto an encoding's grid and returns the integers `q + offset` (the value
 * represented is `scale · (q + offset)`), per tensor or per channel along `encoding.axis`.
 * Rounding is half to even, the same as the Q/DQ nodes of the simulated graph.
 */
export function quantizeToGrid(values: Float32Array, dims: readonly number[], encoding: Encoding): Int32Array {
  const out = new Int32Array(values.length);
  const axis = encoding.axis;
  const channels = encoding.channels;
  const inner = axis === undefined ? values.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const count = channels.length;
  const n = gridSteps(encoding);
  for (let i = 0; i < values.length; i++) {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % count;
    const ch = channels[c];
    if (!ch) continue;
    const q = roundHalfEven((values[i] as number) / ch.scale);
    out[i] = Math.min(Math.max(q, ch.offset), ch.offset + n);
  }
  return out;
}

/** Quantize-dequantize of a weight tensor: what the simulated model computes with. */
export function fakeQuantizeWeights(values: Float32Array, dims: readonly number[], encoding: Encoding): Float32Array {
  const grid = quantizeToGrid(values, dims, encoding);
  const out = new Float32Array(values.length);
  const axis = encoding.axis;
  const inner = axis === undefined ? values.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < values.length; i++) {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % encoding.channels.length;
    out[i] = (encoding.channels[c]?.scale ?? 0) * (grid[i] as number);
  }
  return out;
}
