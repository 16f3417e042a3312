import type { QuantConfig } from '../plan/config-file.js';
import type { QuantDefaults } from '../plan/defaults.js';
import type { OverrideData } from '../plan/overrides.js';
import type { SelectorData } from '../plan/selector.js';

/**
 * The builder's state: plain data only, produced with immer and frozen. Services (model,
 * plugins, container) live beside it.
 */
export interface BuilderState {
  readonly defaults: QuantDefaults;
  /** Who set the defaults: `defaults` or the `.defaults({...})` call. */
  readonly config: QuantConfig | undefined;
  /** Modifier calls in the order written. */
  readonly overrides: readonly OverrideData[];
  /** The selection that the next modifier applies to; `undefined` means everything. */
  readonly scope: SelectorData | undefined;
  readonly foldBatchNorms: boolean;
  readonly backend: { readonly name: string; readonly fallback: 'cpu' | undefined };
  /** `simulate`: Q/DQ as float arithmetic (default); `emulate`: integer kernels as on a device. */
  readonly mode: 'simulate' | 'emulate';
  /** Set by `.recalibrate()` after `sim.edit()`: changed quantizers get new encodings. */
  readonly recalibrate: boolean;
}
