import { requestedWorkers } from '../calibrate/thread-pool.js';
import { NotCalibratedError } from '../errors/not-calibrated-error.js';
import { InvalidArgumentError, UnsupportedError } from '../errors/quantsim-error.js';
import { buildSwitchableModel, defaultSwitchGroup } from '../simulate/switchable-model.js';
import { SwitchableSim, type SwitchableSimOptions } from '../simulate/switchable-sim.js';
import type { QuantSim } from './quant-sim.js';

/**
 * The entry of evaluation threads: from sources (tests, tsx) a boot file that registers tsx, from
 * the build the compiled worker.
 */
const SWITCHABLE_WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './switchable-worker-boot.mjs' : './switchable-worker.js',
  import.meta.url,
).href;

/**
 * Builds one switchable simulation from calibrated simulations of the same builder (same model,
 * same BatchNorm folding and supergroups), each one variant. Encodings are taken as they are.
 * @throws NotCalibratedError when a simulation lacks encodings; UnsupportedError in emulate mode
 *   or when the simulations come from different models.
 */
export async function createSwitchableSim(
  variants: readonly { readonly name: string; readonly sim: QuantSim }[],
  options: SwitchableSimOptions = {},
): Promise<SwitchableSim> {
  const first = variants[0];
  if (!first) throw new InvalidArgumentError('createSwitchableSim needs at least one simulation.');
  const prepared = first.sim.prepared;
  for (const { name, sim } of variants) {
    const missing = sim.missingEncodings;
    if (missing.length > 0) throw new NotCalibratedError(missing);
    if (sim.mode !== 'simulate')
      throw new UnsupportedError(`Variant ${name} is in emulate mode; switchable simulations simulate only.`, {
        hint: "Use .mode('simulate') for analysis.",
      });
    if (sim.prepared !== prepared)
      throw new UnsupportedError(
        `Variant ${name} was prepared from another model or other folding/supergroups than ${first.name}.`,
        {
          hint: 'Make every variant from one builder, changing only bitwidths and other quantizer settings.',
        },
      );
  }
  const switchable = buildSwitchableModel(
    prepared,
    variants.map(({ name, sim }) => ({ name, plan: sim.plan, encodings: sim.encodings })),
    { qdqTypes: first.sim.backend.capabilities.qdqTypes },
    options.groupOf ?? defaultSwitchGroup,
  );
  const workers = requestedWorkers(options.workers, 'createSwitchableSim()');
  return new SwitchableSim(
    switchable,
    prepared,
    first.sim.backend,
    workers > 1
      ? {
          workers,
          workerModule: SWITCHABLE_WORKER,
          ...(options.onWorkers ? { onWorkers: options.onWorkers } : {}),
          ...(options.warn ? { warn: options.warn } : {}),
        }
      : undefined,
  );
}
