import type { EncodingMap } from './encoding.js';
import type { ModelView } from './model.js';
import type { QuantPlanView } from './plan.js';

/**
 * When a rule runs: after the plan is resolved, before calibration starts, when a calibrated
 * simulation is edited (`sim.edit()` then a change), and before export.
 */
export type RulePhase = 'plan' | 'calibrate' | 'edit' | 'export';

/** One finding of a rule. Errors stop the phase; warnings are reported. */
export interface Diagnostic {
  /** Stable code, for example `SELECTOR_NO_MATCH`. */
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string;
  /** The rule that reported it (filled in by core when missing). */
  readonly rule?: string;
  /** The quantizer concerned, if any. */
  readonly quantizer?: string;
}

/** A selector as the user wrote it, with what it matched. */
export interface SelectorReport {
  /** How the user wrote it, for example `.layers(/fc|bbox/)`. */
  readonly call: string;
  readonly kind: 'layers' | 'ops' | 'tensors' | 'all';
  /** Names that matched (layers, op types or tensors). */
  readonly matched: readonly string[];
  /** Every name it could have matched, for "did you mean" hints. */
  readonly candidates: readonly string[];
}

/** A change of one field of one quantizer, made after encodings existed. */
export interface QuantizerChange {
  readonly quantizer: string;
  readonly field: string;
  readonly before: unknown;
  readonly after: unknown;
  /** The call that made the change. */
  readonly call: string;
}

/** What a rule sees. Everything is frozen. */
export interface RuleContext {
  readonly phase: RulePhase;
  readonly model: ModelView;
  /** The resolved plan (rows of {@link QuantizerSpec}). */
  readonly plan: QuantPlanView;
  readonly selectors: readonly SelectorReport[];
  /** Encodings that already exist (after calibration or loading), by quantizer id. */
  readonly encodings: EncodingMap;
  /** Quantizers whose encodings were loaded with `freeze`. */
  readonly frozen: ReadonlySet<string>;
  /** Changes made after encodings existed (phase `edit`). */
  readonly changes: readonly QuantizerChange[];
  /** Quantizers the user asked to recalibrate with `.recalibrate()`. */
  readonly recalibrate: ReadonlySet<string> | 'all';
  /** Registered scheme and backend names, for validity checks. */
  readonly schemeNames: readonly string[];
  readonly backendNames: readonly string[];
  /** The backend the builder selected, by name. */
  readonly backend: string;
}

/** A check that runs in one or more phases and returns diagnostics. */
export interface Rule {
  readonly name: string;
  readonly phases: readonly RulePhase[];
  check(context: RuleContext): readonly Diagnostic[];
}
