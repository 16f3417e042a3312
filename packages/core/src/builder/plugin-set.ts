import type { Backend } from '../contracts/backend.js';
import type { NamedQuantConfig, Plugin } from '../contracts/plugin.js';
import type { Diagnostic, Rule, RuleContext, RulePhase } from '../contracts/rule.js';
import type { EncodingScheme } from '../contracts/scheme.js';
import { describeValue, QuantsimError } from '../errors/quantsim-error.js';
import { RuleViolationError } from '../errors/rule-violation-error.js';

/** Where warnings go. Defaults to `console.warn`. */
export type WarningSink = (message: string) => void;

/**
 * The plugins of a builder, applied in the order they were added. A plugin whose name is already
 * present replaces the earlier one, in the earlier one's place (so the order of the others stays),
 * and never runs twice. Immutable: `with` returns a new set.
 */
export class PluginSet {
  readonly plugins: readonly Plugin[];

  constructor(plugins: readonly Plugin[] = []) {
    const list: Plugin[] = [];
    for (const p of plugins) {
      checkPlugin(p);
      const at = list.findIndex((q) => q.name === p.name);
      if (at >= 0) list[at] = p;
      else list.push(p);
    }
    this.plugins = Object.freeze(list);
  }

  /** A set with `plugin` added at the end, or in the place of the plugin of the same name, which it replaces. */
  with(plugin: Plugin): PluginSet {
    checkPlugin(plugin);
    return new PluginSet([...this.plugins, plugin]);
  }

  /** Schemes by name; a later plugin's scheme of the same name replaces an earlier one. */
  get schemes(): ReadonlyMap<string, EncodingScheme> {
    const map = new Map<string, EncodingScheme>();
    for (const p of this.plugins) for (const s of p.schemes ?? []) map.set(s.name, s);
    return map;
  }

  /** Named configs by name; a later plugin's config of the same name replaces an earlier one. */
  get configs(): ReadonlyMap<string, NamedQuantConfig> {
    const map = new Map<string, NamedQuantConfig>();
    for (const p of this.plugins) for (const c of p.configs ?? []) map.set(c.name, c);
    return map;
  }

  get rules(): readonly Rule[] {
    return this.plugins.flatMap((p) => p.rules ?? []);
  }

  get backends(): readonly Backend[] {
    return this.plugins.flatMap((p) => p.backends ?? []);
  }

  /**
   * Runs the rules of a phase in registration order, with a frozen context. Warnings go to
   * `warn`; all errors are thrown together in one {@link RuleViolationError}.
   */
  check(phase: RulePhase, context: Omit<RuleContext, 'phase'>, warn: WarningSink): readonly Diagnostic[] {
    const ctx = Object.freeze({ ...context, phase });
    const found: Diagnostic[] = [];
    for (const plugin of this.plugins) {
      for (const rule of plugin.rules ?? []) {
        if (!rule.phases.includes(phase)) continue;
        const result = rule.check(ctx);
        if (!Array.isArray(result))
          throw new QuantsimError(
            'PLUGIN',
            `Rule '${rule.name}' of plugin '${plugin.name}' returned ${describeValue(result)} instead of a list of diagnostics.`,
            {
              hint: 'A rule must return an array (empty when all is well).',
            },
          );
        for (const d of result as Diagnostic[]) {
          if (typeof d?.message !== 'string' || (d.severity !== 'error' && d.severity !== 'warning'))
            throw new QuantsimError(
              'PLUGIN',
              `Rule '${rule.name}' of plugin '${plugin.name}' returned a malformed diagnostic ${describeValue(d)}.`,
              {
                hint: "Each diagnostic needs a code, a severity ('error' or 'warning') and a message.",
              },
            );
          found.push({ ...d, rule: d.rule ?? rule.name });
        }
      }
    }
    for (const d of found) if (d.severity === 'warning') warn(`quantsim: [${d.rule}] ${d.message}${d.hint ? ` ${d.hint}` : ''}`);
    const errors = found.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new RuleViolationError(phase, errors);
    return found;
  }
}

function checkPlugin(p: Plugin): void {
  if (typeof p !== 'object' || p === null || typeof p.name !== 'string' || p.name === '')
    throw new QuantsimError('PLUGIN', `A plugin must be an object with a non-empty name, received ${describeValue(p)}.`, {
      hint: "For example { name: 'my-plugin', schemes: [myScheme] }.",
    });
}
