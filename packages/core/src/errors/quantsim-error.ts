import type { QuantsimErrorCode } from './codes.js';

export type { QuantsimErrorCode } from './codes.js';

/** Options shared by every quantsim error. */
export interface QuantsimErrorOptions {
  /** What the user can do about it, in one sentence. */
  readonly hint?: string;
  /** The underlying error, if any; normalised to an `Error`. */
  readonly cause?: unknown;
}

/**
 * The base of every error quantsim throws on purpose. It carries a stable {@link QuantsimErrorCode}
 * and a hint that tells the user what to do next; the hint is also appended to the message.
 */
export class QuantsimError extends Error {
  /** Stable code for programmatic handling. */
  readonly code: QuantsimErrorCode;
  /** The suggested fix, also included in `message`. */
  readonly hint: string | undefined;

  constructor(code: QuantsimErrorCode, message: string, options: QuantsimErrorOptions = {}) {
    const full = options.hint ? `${message} ${options.hint}` : message;
    super(full, options.cause === undefined ? undefined : { cause: toError(options.cause) });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Turns anything thrown into an `Error`, keeping the original when it already is one. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

/** A function argument was malformed; the message names the argument and what was received. */
export class InvalidArgumentError extends QuantsimError {
  constructor(message: string, options: QuantsimErrorOptions = {}) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** A feature exists in the format but quantsim does not support it yet. */
export class UnsupportedError extends QuantsimError {
  constructor(message: string, options: QuantsimErrorOptions = {}) {
    super('UNSUPPORTED', message, options);
  }
}

/** Formats a value for an error message: short, quoted strings, JSON otherwise. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (value instanceof RegExp) return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const s = JSON.stringify(value);
    return s === undefined ? String(value) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

/** `message` without the hint that {@link QuantsimError} appended to it (as is, when it has none). */
export function messageWithoutHint(message: string, hint: string | undefined): string {
  return hint && message.endsWith(` ${hint}`) ? message.slice(0, -hint.length - 1) : message;
}
