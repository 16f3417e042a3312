import { describeValue, InvalidArgumentError } from '@quantsim/core';
import type { OrtSessionDefaults } from './session-options.js';

const LEVELS = new Set(['disabled', 'basic', 'extended', 'all']);

/**
 * Checks a backend constructor's session defaults.
 *
 * @throws InvalidArgumentError naming the bad option and the value received.
 */
export function checkSessionDefaults(backend: string, options: OrtSessionDefaults): void {
  const threads = options.intraOpThreads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0))
    throw new InvalidArgumentError(`${backend}: intraOpThreads must be a positive integer; received ${describeValue(threads)}.`);
  const level = options.graphOptimizationLevel;
  if (level !== undefined && !LEVELS.has(level))
    throw new InvalidArgumentError(
      `${backend}: graphOptimizationLevel must be 'disabled', 'basic', 'extended' or 'all'; received ${describeValue(level)}.`,
    );
}
