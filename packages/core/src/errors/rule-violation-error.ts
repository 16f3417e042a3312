import type { Diagnostic, RulePhase } from '../contracts/rule.js';
import { QuantsimError } from './quantsim-error.js';

/**
 * One or more rules failed in a phase. Every error of the phase is listed, each with the rule
 * that reported it and its hint, so that the user can fix them all at once.
 */
export class RuleViolationError extends QuantsimError {
  readonly phase: RulePhase;
  readonly diagnostics: readonly Diagnostic[];

  constructor(phase: RulePhase, diagnostics: readonly Diagnostic[]) {
    const lines = diagnostics.map((d) => `  - [${d.rule ?? 'rule'}] ${d.message}${d.hint ? ` ${d.hint}` : ''}`);
    const n = diagnostics.length;
    super('RULE_VIOLATION', `${n} ${n === 1 ? 'problem' : 'problems'} ${PHASE_TEXT[phase]}:\n${lines.join('\n')}`);
    this.phase = phase;
    this.diagnostics = diagnostics;
  }
}

const PHASE_TEXT: Record<RulePhase, string> = {
  plan: 'in the quantization plan',
  calibrate: 'before calibration',
  edit: 'in the edit of a calibrated simulation',
  export: 'before export',
};
