import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';

/** Checks the argument of `.symmetric(options)`: an object with at most `strict: boolean`. */
export function checkSymmetricOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new InvalidArgumentError(`.symmetric() takes { strict?: boolean }, received ${describeValue(options)}.`, {
      hint: 'For example .symmetric() or .symmetric({ strict: true }).',
    });
  for (const key of Object.keys(options))
    if (key !== 'strict')
      throw new InvalidArgumentError(`.symmetric(): unknown option '${key}'.`, {
        hint: 'The only option is strict: true or false.',
      });
  const strict = (options as { strict?: unknown }).strict;
  if (strict !== undefined && typeof strict !== 'boolean')
    throw new InvalidArgumentError(`.symmetric(): strict must be true or false, received ${describeValue(strict)}.`, {
      hint: 'For example .symmetric({ strict: true }).',
    });
}
