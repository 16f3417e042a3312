import type { SelectorData } from './selector.js';

/** Fields an override sets. `perChannelAxis: 'natural'` means the layer's output-channel axis; `null` per-tensor. */
export interface OverrideFields {
  readonly bitwidth?: number;
  readonly dtype?: 'int' | 'float';
  readonly symmetric?: boolean;
  readonly strictSymmetric?: boolean;
  readonly unsignedSymmetric?: boolean;
  readonly scheme?: string;
  readonly schemeOptions?: Readonly<Record<string, unknown>>;
  readonly perChannelAxis?: number | 'natural' | null;
  readonly enabled?: boolean;
}

/** Which quantizers of the selection a modifier changes. */
export type OverrideTarget = 'activations' | 'params' | 'inputs' | 'all';

/** One modifier call applied to one selection, as plain data. */
export interface OverrideData {
  readonly selector: SelectorData;
  readonly target: OverrideTarget;
  readonly fields: OverrideFields;
  /** How the user wrote it, for provenance: `.layers(/fc/).params(16)`. */
  readonly call: string;
}
