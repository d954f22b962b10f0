/** Stable machine-readable codes of every error streamvisor raises. See docs/errors.md. */
export type ErrorCode =
  | 'NOGROUP'
  | 'CONNECTION'
  | 'READ_TIMEOUT'
  | 'REDIS'
  | 'NON_RETRYABLE'
  | 'BATCH_PARTIAL'
  | 'STORAGE_CLOSED'
  | 'HANDLER_TIMEOUT'
  | 'STOPPING'
  | 'RUNTIME_STATE'
  | 'RESTART_LIMIT';

export interface StreamvisorErrorOptions {
  /** The error this one wraps (standard `Error.cause`). */
  cause?: unknown;
}

/**
 * Base class of every error streamvisor raises. Callers branch on `code` (stable) or on
 * `retriable` (true when trying the same operation again later can succeed).
 *
 * @example
 * try { await storage.ack('s', 'g', ids) } catch (error) {
 *   if (error instanceof StreamvisorError && error.retriable) scheduleRetry()
 * }
 */
export class StreamvisorError extends Error {
  override name = 'StreamvisorError';
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(message: string, code: ErrorCode, retriable: boolean, options: StreamvisorErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.retriable = retriable;
  }
}
