import { StreamvisorError, type StreamvisorErrorOptions } from './streamvisor-error.js';

/**
 * Throw it from a handler to dead-letter the message at once (reason `non-retryable`), skipping
 * the remaining retry attempts: the message is wrong, not the moment.
 *
 * @example
 * router.on('order.created', async (message) => {
 *   if (!message.payload.orderId) throw new NonRetryableError('order.created without orderId')
 * })
 */
export class NonRetryableError extends StreamvisorError {
  override name = 'NonRetryableError';

  constructor(message: string, options: StreamvisorErrorOptions = {}) {
    super(message, 'NON_RETRYABLE', false, options);
  }
}
