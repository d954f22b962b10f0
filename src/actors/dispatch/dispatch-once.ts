import type { Logger } from 'pino';
import { NonRetryableError } from '../../errors/non-retryable-error.js';
import type { HandlerContext, Route } from '../../routing/handler.js';
import type { Router } from '../../routing/router.js';
import { decodeMessage, type Message } from '../../wire/message.js';
import { encodePublish, type OutputMessage } from '../../wire/publish.js';
import { callRoutes } from './call-routes.js';
import { PublishBuffer } from './publish-buffer.js';

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
 * producer wrote them, read by the wire format: `{ type: 'x', user_id: '42' }` flat, or
 * `{ type: 'x', payload: '{"user_id":42}' }`. Numbers and booleans among flat fields become strings,
 * as Redis stores them (`{ type: 'x', user_id: 42 }` is `user_id: '42'`); an object, array, `null`
 * or non-finite number there is a `TypeError` naming the field.
 */
export type DispatchMessage = DispatchInput | Readonly<Record<string, string | number | boolean>>;

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
  /**
   * What the handlers that succeeded published with `ctx.publish`, encoded as a consumer would
   * write them with the ack, in order; not written anywhere. Absent when they published nothing (so
   * results stay `{ outcome, handlers }` for handlers that do not publish).
   */
  published?: OutputMessage[];
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
 * rejects with a `TypeError` only when `input` is not an object, or has a field no stream entry
 * could hold (an object, array, `null` or non-finite number among flat fields or in `fields`).
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
  const outputs = new PublishBuffer();
  const ctx: HandlerContext<C> = {
    container: deps.container,
    signal: options.signal ?? new AbortController().signal,
    attempt: 1,
    log: deps.logger.child({ messageId: message.id, messageType: message.type, dispatch: true }),
    publish: (stream, type, payload, publishOptions) =>
      outputs.add(encodePublish(stream, type, payload, publishOptions)),
  };
  const handlers: string[] = [];
  const { failed, failure } = await callRoutes(routes, message, ctx, {
    started: (route) => {
      outputs.settled(false);
      handlers.push(route.name);
    },
    succeeded: () => outputs.settled(true),
    endOnNonRetryable: false,
  });
  const published = outputs.close();
  const result: DispatchResult = !failed
    ? { outcome: 'handled', handlers }
    : { outcome: 'failed', handlers, error: asError(failure) };
  if (published !== null) result.published = published;
  return result;
}

type Decoded = { ok: true; message: Message } | { ok: false; error: string };

function toMessage<C>(deps: DispatchDeps<C>, input: DispatchMessage): Decoded {
  const limit = { maxPayloadBytes: deps.maxPayloadBytes };
  const raw = rawFieldsOf(input);
  if (raw !== null) return decodeMessage(deps.stream, { id: nextId(), fields: raw, deliveries: 1 }, limit);
  const given = input as Partial<Record<keyof DispatchInput, unknown>>;
  if (typeof given.type !== 'string' || given.type === '') {
    return { ok: false, error: 'Expected `type` to be a non-empty string; every message needs one' };
  }
  const id = typeof given.id === 'string' ? given.id : nextId();
  const stream = typeof given.stream === 'string' ? given.stream : deps.stream;
  const fields = { ...flatFields((given.fields ?? {}) as object, 'fields.'), type: given.type };
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

/** The keys of a `DispatchInput`. */
const INPUT_KEYS = new Set(['type', 'payload', 'fields', 'stream', 'id']);

/**
 * The fields of `input` when it is raw stream fields, else null (a `DispatchInput`). Raw fields:
 * every value a string, or any key a `DispatchInput` does not have (`{ type, user_id: 42 }`).
 */
function rawFieldsOf(input: object): Record<string, string> | null {
  const entries = Object.entries(input);
  if (entries.every(([, value]) => typeof value === 'string')) return input as Record<string, string>;
  if (entries.every(([key]) => INPUT_KEYS.has(key))) return null;
  return flatFields(input, '');
}

/** Every value as Redis would store it: numbers and booleans as strings; anything else a TypeError. */
function flatFields(source: object, prefix: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === 'string') fields[key] = value;
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
      fields[key] = String(value);
    } else if (typeof value === 'bigint') fields[key] = value.toString();
    else {
      const got = describeValue(value);
      throw new TypeError(
        `Expected field \`${prefix}${key}\` of the message to be a string, a finite number or a boolean (stream entry fields are strings), got ${got}; put structured data in \`payload\` (JSON), e.g. { type, payload: { ${key}: … } }`,
      );
    }
  }
  return fields;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
