/**
 * A path could not be read as a regular file (a FIFO, a device, a folder, a file on /proc).
 * Internal: readers turn it into a {@link ModelLoadError} or {@link ModelSaveError} naming the
 * user's path.
 */
export class NotRegularFileError extends Error {
  /** Why, in words ("it is a named pipe (FIFO), not a regular file"). */
  readonly reason: string;
  /** `EISDIR`, `ENOTREG` or `EPSEUDOFS`. */
  readonly code: string;
  /** @param reason why, in words; @param code the code. */
  constructor(reason: string, code: string) {
    super(reason);
    this.reason = reason;
    this.code = code;
  }
}
