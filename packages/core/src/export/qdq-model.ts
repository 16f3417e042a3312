import type { EncodingMap } from '../contracts/encoding.js';
import { UnsupportedError } from '../errors/quantsim-error.js';
import type { Model } from '../model/model.js';
import type { QuantPlan } from '../quant/plan.js';
import type { PreparedModel } from '../quant/prepared-model.js';
import type { ExportOptions } from '../sim/export-simulation.js';

/**
 * Builds the deployable QDQ model. Work in progress in this commit: it refuses with a clear
 * error until the opset-21 conversion lands.
 */
export function buildQdqModel(_prepared: PreparedModel, _plan: QuantPlan, _encodings: EncodingMap, _options: ExportOptions): Model {
  throw new UnsupportedError('The QDQ model export is not available yet.', { hint: "Export the other formats: { formats: ['encodings', 'onnx', 'ort-overrides', 'plan'] }." });
}
