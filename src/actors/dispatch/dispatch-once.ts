import type { Logger } from 'pino';
import { NonRetryableError } from '../../errors/non-retryable-error.js';
import type { HandlerContext, Route } from '../../routing/handler.js';
import type { Router } from '../../routing/router.js';
import { decodeMessage, type Message } from '../../wire/message.js';
import { callRoutes } from './call-routes.js';

/**
 * A message given to `runtime.dispatch` in decoded form. `payload` is handed to handlers as it is;
 * without it, the payload is decoded from `fields` by the wire format.
 *
 * @example
 * await runtime.dispatch({ type: 'booking.confirmed', payload: { bookingId: 'b-1' }, stream: 'bot_events' })
 */
export interface DispatchInput {
  /** The message type; required and non-empty. */
  type: string;
  /** The payload handlers get as `message.payload`. @default decoded from `fields` */
  payload?: unknown;
  /** Headers (and, without `payload`, the flat payload), as `message.fields`. @default {} */
  fields?: Readonly<Record<string, string>>;
  /** `message.stream`. @default the stream of the runtime's first consumer */
  stream?: string;
  /** `message.id`. @default `dispatch-<ms>-<n>`, never a stream id */
  id?: string;
}

/**
 * What `runtime.dispatch` takes: a `DispatchInput`, or the raw fields of a stream entry as a
 * producer wrote them (an object whose values are all strings, read by the wire format:
 * `{ type: 'x', user_id: '42' }` flat, or `{ type: 'x', payload: '{"user_id":42}' }`).
 */
export type DispatchMessage = DispatchInput | Readonly<Record<string, string>>;

/** Options of `runtime.dispatch`. */
export interface DispatchOptions {
  /** Handed to handlers as `ctx.signal`. @default a signal that is never aborted */
  signal?: AbortSignal;
}

/**
 * What `runtime.dispatch` did: `handled` when every matching handler resolved, `unrouted` when no
 * handler matched, `failed` when the message could not be decoded or a filter, schema or handler
 * threw (the others still ran).
 */
export interface DispatchResult {
  outcome: 'handled' | 'unrouted' | 'failed';
  /** Names of the routes that ran, in order (failed ones included). */
  handlers: string[];
  /** The first failure: a `NonRetryableError` for a message that cannot be decoded or fails a schema. */
  error?: Error;
}

/** What `dispatchOnce` runs handlers with: the runtime's router, container and logger. */
export interface DispatchDeps<C> {
  router: Router<C>;
  container: C;
  logger: Logger;
  /** `message.stream` when the input names none. */
  stream: string;
  maxPayloadBytes: number;
}

let dispatched = 0;

/**
 * Run every handler matching one message once, in registration order, without any storage: no
 * retries, no ack, no dead letter. Never rejects for a handler's failure (the result carries it);
 * rejects with a `TypeError` only when `input` is not an object.
 *
 * @example
 * const result = await dispatchOnce({ router, container, logger, stream: 'bot_events', maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES },
 *   { type: 'booking.confirmed', user_id: '42' })
 * // result → { outcome: 'handled', handlers: ['booking.confirmed#1'] }
 */
export async function dispatchOnce<C>(
  deps: DispatchDeps<C>,
  input: DispatchMessage,
  options: DispatchOptions = {},
): Promise<DispatchResult> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(
      `Expected \`message\` to be { type, payload?, fields?, stream? } or the fields of a stream entry, got ${input === null ? 'null' : typeof input}`,
    );
  }
  const decoded = toMessage(deps, input);
  if (!decoded.ok) return { outcome: 'failed', handlers: [], error: new NonRetryableError(decoded.error) };
  const message = decoded.message;
  let routes: readonly Route<C>[];
  try {
    routes = deps.router.match(message);
  } catch (error) {
    return { outcome: 'failed', handlers: [], error: asError(error) };
  }
  if (routes.length === 0) return { outcome: 'unrouted', handlers: [] };
  const ctx: HandlerContext<C> = {
    container: deps.container,
    signal: options.signal ?? new AbortController().signal,
    attempt: 1,
    log: deps.logger.child({ messageId: message.id, messageType: message.type, dispatch: true }),
  };
  const handlers: string[] = [];
  const { failed, failure } = await callRoutes(routes, message, ctx, {
    started: (route) => handlers.push(route.name),
    endOnNonRetryable: false,
  });
  return !failed
    ? { outcome: 'handled', handlers }
    : { outcome: 'failed', handlers, error: asError(failure) };
}

type Decoded = { ok: true; message: Message } | { ok: false; error: string };

function toMessage<C>(deps: DispatchDeps<C>, input: DispatchMessage): Decoded {
  const limit = { maxPayloadBytes: deps.maxPayloadBytes };
  if (isRawFields(input)) {
    return decodeMessage(deps.stream, { id: nextId(), fields: input, deliveries: 1 }, limit);
  }
  const given = input as Partial<Record<keyof DispatchInput, unknown>>;
  if (typeof given.type !== 'string' || given.type === '') {
    return { ok: false, error: 'Expected `type` to be a non-empty string; every message needs one' };
  }
  const id = typeof given.id === 'string' ? given.id : nextId();
  const stream = typeof given.stream === 'string' ? given.stream : deps.stream;
  const fields = { ...(given.fields as Record<string, string> | undefined), type: given.type };
  if ('payload' in given) {
    return {
      ok: true,
      message: { id, type: given.type, payload: given.payload, fields, stream, deliveries: 1 },
    };
  }
  return decodeMessage(stream, { id, fields, deliveries: 1 }, limit);
}

/** An id no stream entry has (stream ids are `<ms>-<seq>`), so idempotency keys never collide. */
function nextId(): string {
  return `dispatch-${Date.now()}-${++dispatched}`;
}

/** Raw stream fields: every value a string (a decoded input has a non-string `payload` or `fields`). */
function isRawFields(input: object): input is Readonly<Record<string, string>> {
  for (const value of Object.values(input)) if (typeof value !== 'string') return false;
  return true;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
