import { requestedWorkers } from '../calibrate/thread-pool.js';
import { NotCalibratedError } from '../errors/not-calibrated-error.js';
import { InvalidArgumentError, UnsupportedError } from '../errors/quantsim-error.js';
import type { PreparedModel } from '../plan/prepared-model.js';
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
 * same BatchNorm folding and supergroups), each one variant. Encodings are taken as they are. A
 * variant made with bias correction runs on its own corrected biases: they switch with their
 * layer's parameters (the float setting of a layer has the biases as they were).
 * @throws NotCalibratedError when a simulation lacks encodings; UnsupportedError in emulate mode,
 *   when the simulations come from different models, or when a variant quantizes a bias its bias
 *   correction changed.
 */
export async function createSwitchableSim(
  variants: readonly { readonly name: string; readonly sim: QuantSim }[],
  options: SwitchableSimOptions = {},
): Promise<SwitchableSim> {
  const first = variants[0];
  if (!first) throw new InvalidArgumentError('createSwitchableSim needs at least one simulation.');
  // Variants may differ in bias correction only: they share the model before it (the reference
  // model), and each brings the biases its correction rewrote, which switch with their layers.
  const reference = first.sim.referenceModel;
  const uncorrected = variants.find((v) => v.sim.prepared.model === reference);
  const prepared: PreparedModel = uncorrected?.sim.prepared ?? {
    ...first.sim.prepared,
    model: reference,
    graph: reference.graph,
  };
  const withBiases = variants.map(({ name, sim }) => {
    const missing = sim.missingEncodings;
    if (missing.length > 0) throw new NotCalibratedError(missing);
    if (sim.mode !== 'simulate')
      throw new UnsupportedError(`Variant ${name} is in emulate mode; switchable simulations simulate only.`, {
        hint: "Use .mode('simulate') for analysis.",
      });
    const same = sim.prepared === prepared || (sim.referenceModel === reference && sim.prepared.placement === prepared.placement);
    if (!same)
      throw new UnsupportedError(
        `Variant ${name} was prepared from another model or other folding/supergroups than ${first.name}.`,
        {
          hint: 'Make every variant from one builder, changing only bitwidths and other quantizer settings.',
        },
      );
    const biases = new Map<string, Float32Array>();
    for (const r of sim.postTraining.biasCorrection ?? []) {
      const values = sim.prepared.model.constantValues(r.bias);
      if (values) biases.set(r.bias, values);
    }
    const quantized = sim.plan.enabled.find((q) => q.kind === 'param' && biases.has(q.tensor));
    if (quantized)
      throw new UnsupportedError(
        `Variant ${name} quantizes the bias ${quantized.tensor}, which its bias correction changed; the variants share one model, so its encoding would not match.`,
        { hint: 'Leave biases unquantized (the default) in the variants, or turn bias correction off (.biasCorrection(false)).' },
      );
    return { name, plan: sim.plan, encodings: sim.encodings, ...(biases.size > 0 ? { biases } : {}) };
  });
  const switchable = buildSwitchableModel(
    prepared,
    withBiases,
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
