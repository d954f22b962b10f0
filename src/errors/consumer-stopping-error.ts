import { StreamvisorError } from './streamvisor-error.js';

/**
 * The reason of `ctx.signal` when the consumer stops: the stop deadline passed (`runtime.stop({
 * timeoutMs })`), or the consumer ended (a NOGROUP restart, escalation). The message is left pending,
 * not acked, and is handled again later; a handler that sees it should stop its work.
 *
 * @example
 * router.on('report.requested', async (message, ctx) => {
 *   ctx.signal.addEventListener('abort', () => {
 *     if (ctx.signal.reason instanceof ConsumerStoppingError) ctx.log.info('stopping; the message stays pending');
 *   });
 * });
 */
export class ConsumerStoppingError extends StreamvisorError {
  override name = 'ConsumerStoppingError';

  constructor(message = 'The consumer is stopping; this message stays pending and is handled again later') {
    super(message, 'STOPPING', true);
  }
}
