/**
 * The one error classifier. Errors reach machines and the runtime as values; they are classified by
 * their `code` and `retriable` fields (every streamvisor error has both; see src/errors).
 */

/** The error's `code` field, if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** The group or its stream does not exist (Redis `-NOGROUP`): the consumer must recreate it. */
export function isNoGroup(error: unknown): boolean {
  return errorCode(error) === 'NOGROUP';
}

/** A transient failure (connection lost, timeout): back off and try again. */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retriable' in error && error.retriable === true;
}

/** Why a consumer exits on an error that is not retriable. */
export function exitReasonOf(error: unknown): 'nogroup' | 'fatal' {
  return isNoGroup(error) ? 'nogroup' : 'fatal';
}

/** The text logged and reported for an error: its message (its name when the message is empty). */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
