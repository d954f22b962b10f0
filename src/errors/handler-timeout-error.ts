import { StreamvisorError } from './streamvisor-error.js';

/**
 * A handler attempt ran longer than `handlerTimeoutMs`: its `ctx.signal` was aborted with this error
 * and the attempt counts as failed (it is retried like any failure).
 *
 * @example
 * router.on('t', async (m, ctx) => { await fetch(url, { signal: ctx.signal }) })
 */
export class HandlerTimeoutError extends StreamvisorError {
  override name = 'HandlerTimeoutError';

  constructor(timeoutMs: number) {
    super(
      `Handler did not finish within handlerTimeoutMs ${timeoutMs} ms; raise the option or make the handler honour ctx.signal`,
      'HANDLER_TIMEOUT',
      true,
    );
  }
}
