import type { Logger } from 'pino';
import {
  type DispatchMessage,
  type DispatchOptions,
  type DispatchResult,
  dispatchOnce,
} from '../actors/dispatch/dispatch-once.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../wire/message.js';
import type { RuntimeOptions } from './runtime-options.js';

/**
 * `runtime.dispatch(message, options?)`: run the handlers of one message once, without Redis (no
 * retry, no ack, no dead letter), with the runtime's container and logger; works before `start()`.
 * The Python design's `process_message`, for tests and for messages from other sources (webhooks).
 * It takes `{ type, payload?, fields?, stream? }` or the raw fields of an entry (every value a string,
 * read by the wire format), and resolves `{ outcome: 'handled' | 'unrouted' | 'failed', handlers, error? }`.
 *
 * @example
 * const result = await runtime.dispatch({ type: 'booking.confirmed', user_id: '42' })
 * if (result.outcome === 'failed') throw result.error
 */
export type RuntimeDispatch = (
  message: DispatchMessage,
  options?: DispatchOptions,
) => Promise<DispatchResult>;

/**
 * What `runtime.dispatch` runs: `dispatchOnce` with the runtime's router, container and logger;
 * `message.stream` defaults to the first consumer's stream, the payload limit is that consumer's.
 *
 * @example
 * dispatchFor(options, logger, { type: 'user.joined', payload: { userId: 42 } })
 */
export function dispatchFor<C>(
  options: RuntimeOptions<C>,
  logger: Logger,
  message: DispatchMessage,
  dispatchOptions?: DispatchOptions,
): Promise<DispatchResult> {
  const first = options.consumers[0];
  const deps = {
    router: options.router,
    container: options.container as C,
    logger,
    stream: first?.stream ?? '',
    maxPayloadBytes: first?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
  };
  return dispatchOnce(deps, message, dispatchOptions);
}
