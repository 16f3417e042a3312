import type { EncodingScheme } from '../contracts/scheme.js';
import type { TensorStats } from '../contracts/stats.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import type { GraphView } from '../graph/graph-view.js';
import type { QuantPlan } from './plan.js';

/** Statistics of a tensor that saw no data: enough for a scheme to check its options. */
const NO_DATA: TensorStats = { count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, nonFinite: 0 };

/**
 * Checks, when the plan is made, what would otherwise fail only at calibration: per-channel axes
 * beyond a parameter's rank, and scheme options that the scheme rejects.
 * @throws InvalidArgumentError naming the call, the value received and the valid values.
 */
export function checkPlan(plan: QuantPlan, graph: GraphView, schemes: ReadonlyMap<string, EncodingScheme>): void {
  const checkedSchemes = new Set<string>();
  for (const q of plan.quantizers) {
    if (!q.enabled) continue;
    if (q.perChannelAxis !== undefined) {
      const shape = graph.tensors.get(q.tensor)?.shape;
      if (shape && (q.perChannelAxis < 0 || q.perChannelAxis >= shape.length))
        throw new InvalidArgumentError(
          `${q.provenance.perChannelAxis ?? '.perChannel()'}: axis ${q.perChannelAxis} is out of range for ${q.tensor} (shape [${shape.join(', ')}], rank ${shape.length}); valid axes are 0 to ${shape.length - 1}.`,
          {
            hint: 'Omit the axis (.perChannel()) to use the output-channel axis, or select only the layers whose parameters have that axis.',
          },
        );
    }
    const scheme = schemes.get(q.scheme);
    if (!scheme || q.dtype !== 'int') continue;
    const key = `${q.scheme} ${JSON.stringify(q.schemeOptions)}`;
    if (checkedSchemes.has(key)) continue;
    checkedSchemes.add(key);
    try {
      scheme.compute(NO_DATA, q);
    } catch (e) {
      // Only the scheme's own argument checks are meant here; anything else surfaces at calibration.
      if (e instanceof InvalidArgumentError)
        throw new InvalidArgumentError(
          `${q.provenance.schemeOptions ?? q.provenance.scheme ?? `scheme '${q.scheme}'`}: ${e.message}`,
          {
            cause: e,
          },
        );
    }
  }
}
