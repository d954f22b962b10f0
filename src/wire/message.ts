import type { StreamEntry, StreamFields } from '../storage/stream-storage.js';
import { isStreamvisorHeader } from './headers.js';

/**
 * One message as a handler sees it: a stream entry decoded by the wire format (docs/contract.md, "Wire format").
 *
 * @typeParam P - the payload type. `unknown` unless a handler declares it or its `schema` infers it.
 * @example
 * router.on('user.joined', (message: Message<{ userId: number }>) => greet(message.payload.userId))
 */
export interface Message<P = unknown> {
  /** The stream entry id, `<ms>-<seq>`. */
  readonly id: string;
  /** The `type` field, never empty. */
  readonly type: string;
  /**
   * The parsed JSON of the `payload` field; without one, an object of every field but `type` and
   * streamvisor's own headers (`x-retry-attempt`, `x-dead-*`, …), so it is the same on every delivery.
   */
  readonly payload: P;
  /** Every field of the entry as written, `type`, `payload` and headers included. */
  readonly fields: Readonly<Record<string, string>>;
  /** The stream the entry was read from. */
  readonly stream: string;
  /** How many times the group has delivered the entry, this delivery included (1 for a first read). */
  readonly deliveries: number;
}

/**
 * What `decodeMessage` makes of an entry: a message, or the dead-letter reason
 * (`x-dead-reason`) and error text (`x-dead-error`) of an entry that cannot be one.
 *
 * @example
 * const result = decodeMessage('events', entry, { maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES })
 * if (!result.ok) await deadLetter(entry, result.reason, result.error)
 */
export type DecodeResult =
  | { ok: true; message: Message }
  | { ok: false; reason: DecodeFailure; error: string };

/** The dead-letter reasons of an entry that is not a message. */
export type DecodeFailure = 'missing-type' | 'malformed-payload' | 'malformed-encoding';

/**
 * The largest `payload` field decoded by default, in bytes of UTF-8 (1 MiB). Larger payloads are
 * dead-lettered with reason `malformed-payload` without being parsed.
 *
 * @default 1_048_576
 * @example
 * decodeMessage('events', entry, { maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES })
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

/**
 * Decodes one stream entry by the wire format:
 * - An entry the storage marked `malformedEncoding` (bytes that are not UTF-8, read as U+FFFD)
 *   gives reason `malformed-encoding`: its decoded fields are not what was written.
 * - `type` is required; a missing or empty one gives reason `missing-type`.
 * - With a `payload` field, `payload` is its JSON (any JSON value, `null` and numbers included);
 *   invalid JSON, or more than `maxPayloadBytes` bytes of UTF-8 (not parsed then), gives reason
 *   `malformed-payload`.
 * - Without a `payload` field, `payload` is a new object of every field but `type` and the headers
 *   streamvisor writes (`isStreamvisorHeader`: `x-retry-attempt`, `x-partition-key`,
 *   `x-replayed-from`, `x-dead-*`, …), so a message's payload is the same on every delivery.
 * - `fields` is the entry's own field object (not copied): headers stay readable there.
 *
 * Never throws. Called once per message, so it does no more work than the format needs.
 *
 * @param stream - the stream the entry was read from.
 * @param options.maxPayloadBytes - the largest `payload` field accepted, in bytes (see `DEFAULT_MAX_PAYLOAD_BYTES`).
 * @example
 * const result = decodeMessage('orders', { id: '1-0', fields: { type: 'order.created', payload: '{"id":7}' }, deliveries: 1 },
 *   { maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES })
 * // result.ok && result.message.payload → { id: 7 }
 */
export function decodeMessage(
  stream: string,
  entry: StreamEntry,
  options: { maxPayloadBytes: number },
): DecodeResult {
  if (entry.malformedEncoding === true) {
    return {
      ok: false,
      reason: 'malformed-encoding',
      error:
        'Entry has a field name or value that is not valid UTF-8; producers must write UTF-8 text (binary data base64-encoded)',
    };
  }
  const fields = entry.fields;
  const type = fields.type;
  if (type === undefined || type === '') {
    return {
      ok: false,
      reason: 'missing-type',
      error:
        type === undefined
          ? 'Entry has no `type` field; every message needs a non-empty `type` field'
          : 'Entry has an empty `type` field; every message needs a non-empty `type` field',
    };
  }
  const raw = fields.payload;
  let payload: unknown;
  if (raw === undefined) {
    payload = fieldsWithoutType(fields);
  } else {
    const max = options.maxPayloadBytes;
    // UTF-8 takes 1 to 3 bytes per UTF-16 code unit, so the byte count only needs measuring when
    // the string's length leaves the answer open: most payloads skip Buffer.byteLength entirely.
    if (raw.length > max || (raw.length * 3 > max && Buffer.byteLength(raw, 'utf8') > max)) {
      return {
        ok: false,
        reason: 'malformed-payload',
        error: `Payload is ${Buffer.byteLength(raw, 'utf8')} bytes, over the limit of ${max} bytes; raise maxPayloadBytes or send a smaller payload`,
      };
    }
    try {
      payload = JSON.parse(raw);
    } catch (error) {
      return {
        ok: false,
        reason: 'malformed-payload',
        error: `Payload is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
  return { ok: true, message: { id: entry.id, type, payload, fields, stream, deliveries: entry.deliveries } };
}

function fieldsWithoutType(fields: StreamFields): Record<string, string> {
  const payload: Record<string, string> = {};
  for (const key of Object.keys(fields)) {
    if (key === 'type' || isStreamvisorHeader(key)) continue;
    const value = fields[key] as string;
    // Assigning `__proto__` would set the prototype instead of a field named so; define it as data.
    if (key === '__proto__') {
      Object.defineProperty(payload, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      payload[key] = value;
    }
  }
  return payload;
}
