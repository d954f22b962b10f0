/**
 * A bad command line: the CLI prints its message on one line and exits with code 2.
 * The message says what to change.
 *
 * @example
 * throw new UsageError('pass --redis URL or set REDIS_URL')
 */
export class UsageError extends Error {
  override name = 'UsageError';
  /** The process exit code for this error. @default 2 */
  readonly exitCode = 2;
}
