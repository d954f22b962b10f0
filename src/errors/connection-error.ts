import { StreamvisorError, type StreamvisorErrorOptions } from './streamvisor-error.js';

/**
 * Redis could not be reached, the connection dropped mid-command, or a blocking read did not settle
 * within its watchdog (`code: 'READ_TIMEOUT'`). Always retriable: the consumer machine goes to
 * `backoff` and tries again; it is never a reason to restart a consumer.
 *
 * @example
 * if (error instanceof ConnectionError) await sleep(backoffMs)
 */
export class ConnectionError extends StreamvisorError {
  override name = 'ConnectionError';

  constructor(
    message: string,
    options: StreamvisorErrorOptions & { code?: 'CONNECTION' | 'READ_TIMEOUT' } = {},
  ) {
    super(message, options.code ?? 'CONNECTION', true, options);
  }
}
