/**
 * The catalogue of error codes: every code a {@link QuantsimError} can carry, each with what it
 * means. Codes are stable: match on `error.code`, not on the message. A test checks that each
 * one is thrown somewhere.
 */
export const QUANTSIM_ERROR_CODES = {
  MODEL_LOAD: 'A model file or buffer could not be read as ONNX.',
  MODEL_SAVE: 'A model could not be written.',
  EXTERNAL_DATA: "A tensor's external data is unsafe (outside the model's folder) or unreadable.",
  GRAPH_STRUCTURE: 'A graph is not well formed: a tensor produced twice, a dangling input, a cycle.',
  INVALID_ARGUMENT: 'A function or builder argument, a feed, or a config file is malformed.',
  SELECTOR_NO_MATCH: 'A selector matched nothing in the model.',
  RULE_VIOLATION: 'The rules of a phase found errors.',
  NOT_CALIBRATED: 'The simulation was used before every enabled quantizer had an encoding.',
  STALE_ENCODINGS: "Encodings were computed for other settings (bitwidth, type, symmetry) than the plan's.",
  CALIBRATION: 'Calibration could not run, or a quantizer got no statistics.',
  NON_FINITE: 'Calibration saw a NaN or an infinity.',
  BACKEND_UNAVAILABLE: 'The backend cannot run on this machine.',
  BACKEND: 'A backend failed while creating or running a session.',
  UNKNOWN_SCHEME: 'A quantizer uses an encoding scheme that no plugin provides.',
  UNKNOWN_BACKEND: 'No backend is registered under the name asked for.',
  UNKNOWN_CONFIG: '`.config(name)` got a name that no plugin provides and no file has.',
  PLUGIN: 'A plugin or one of its rules is malformed.',
  ENCODINGS_FORMAT: 'An encodings file is not AIMET encodings of a known version.',
  ENCODINGS_MISMATCH: 'Loaded encodings disagree with the plan.',
  EXPORT: 'An export could not be written.',
  ABORTED: 'Calibration was stopped by its abort signal.',
  QUEUE: 'A calibration queue (Redis, BullMQ) could not be reached, or a shard of its run failed.',
  UNSUPPORTED: 'A feature of the format that quantsim does not support.',
  POST_TRAINING: 'A post-training step (.seqMse(), .biasCorrection()) had no calibration samples to run on.',
} as const satisfies Readonly<Record<string, string>>;

/** Every error code quantsim throws (the keys of {@link QUANTSIM_ERROR_CODES}). */
export type QuantsimErrorCode = keyof typeof QUANTSIM_ERROR_CODES;
