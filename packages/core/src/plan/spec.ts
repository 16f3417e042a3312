import type { QuantizerField } from '../contracts/spec.js';

export type { GridSpec, QuantizerField, QuantizerKind, QuantizerSpec } from '../contracts/spec.js';

/** Every {@link QuantizerField}, in a fixed order. */
export const QUANTIZER_FIELDS: readonly QuantizerField[] = Object.freeze([
  'bitwidth',
  'dtype',
  'symmetric',
  'strictSymmetric',
  'unsignedSymmetric',
  'scheme',
  'schemeOptions',
  'perChannelAxis',
  'enabled',
]);
