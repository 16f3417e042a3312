import { QuantsimError, type QuantsimErrorOptions } from './quantsim-error.js';

/**
 * A model could not be read: missing or empty file, bytes that are not ONNX, a truncated file,
 * no graph, an unsupported IR version, or a graph that is not well formed.
 * `source` names the file (or `<bytes>` when loaded from memory).
 */
export class ModelLoadError extends QuantsimError {
  /** The file path, or `<bytes>`. */
  readonly source: string;
  /** What is wrong, without the file name and hint. */
  readonly reason: string;

  constructor(
    source: string,
    reason: string,
    options: QuantsimErrorOptions = {},
    code: 'MODEL_LOAD' | 'EXTERNAL_DATA' = 'MODEL_LOAD',
  ) {
    super(code, `Cannot load ONNX model ${source}: ${reason}.`, options);
    this.source = source;
    this.reason = reason;
  }
}

/**
 * A tensor's external data is unsafe or unreadable: its `location` escapes the model's folder
 * (absolute path, `..`, or a symbolic link pointing outside), or the file is missing or too short.
 */
export class ExternalDataError extends ModelLoadError {
  /** The tensor whose data is external. */
  readonly tensor: string;
  /** The `location` entry as written in the model. */
  readonly location: string;

  constructor(source: string, tensor: string, location: string, reason: string, options: QuantsimErrorOptions = {}) {
    super(source, `tensor '${tensor}' has external data at '${location}', which ${reason}`, options, 'EXTERNAL_DATA');
    this.tensor = tensor;
    this.location = location;
  }
}

/** A model could not be written. The destination is left as it was. */
export class ModelSaveError extends QuantsimError {
  /** The destination path. */
  readonly path: string;

  constructor(path: string, message: string, options: QuantsimErrorOptions = {}) {
    super('MODEL_SAVE', `Cannot save ONNX model to ${path}: ${message}.`, options);
    this.path = path;
  }
}
