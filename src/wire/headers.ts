import type { StreamEntry } from '../storage/stream-storage.js';

/**
 * The header that counts how often a message went through the retry scheduler: absent on a
 * message as first published, `1` on its first durable re-delivery, and so on. The runtime sets it
 * on the entry it hands to `schedule`; schedulers re-add the fields as given.
 */
export const RETRY_ATTEMPT_FIELD = 'x-retry-attempt';

/** The header `publish(…, { key })` writes: the key the message was partitioned by. */
export const PARTITION_KEY_FIELD = 'x-partition-key';

/** The header of a replayed dead letter: the id of the dead letter it came from. */
export const REPLAYED_FROM_FIELD = 'x-replayed-from';

/** The headers a dead letter carries on top of the original fields (docs/contract.md, "Wire format"). */
export const DEAD_LETTER_HEADERS = [
  'x-dead-reason',
  'x-dead-error',
  'x-source-stream',
  'x-source-id',
  'x-group',
  'x-deliveries',
  'x-dead-at',
] as const;

/**
 * The fields streamvisor itself writes on stream entries. They are headers: always on
 * `message.fields`, never part of a flat payload, so a message's payload is the same on every
 * delivery (first read, durable retry, replay of a dead letter). See docs/contract.md, "Wire format".
 *
 * - `x-retry-attempt`: how often the message went through the retry scheduler;
 * - `x-partition-key`: the key `publish(…, { key })` partitioned by;
 * - `x-replayed-from`: the dead letter a replayed message came from;
 * - the dead-letter headers: `x-dead-reason`, `x-dead-error`, `x-dead-at` (and any other `x-dead-*`),
 *   `x-source-stream`, `x-source-id`, `x-group`, `x-deliveries`.
 *
 * @example
 * STREAMVISOR_HEADERS.has('x-retry-attempt') // true
 */
export const STREAMVISOR_HEADERS: ReadonlySet<string> = new Set([
  RETRY_ATTEMPT_FIELD,
  PARTITION_KEY_FIELD,
  REPLAYED_FROM_FIELD,
  ...DEAD_LETTER_HEADERS,
]);

/**
 * Whether `field` is a header streamvisor writes (see `STREAMVISOR_HEADERS`; every `x-dead-*` field
 * counts). Your own fields, `x-` prefixed or not, are not.
 *
 * @example
 * isStreamvisorHeader('x-dead-note') // true
 * isStreamvisorHeader('x-tenant') // false
 */
export function isStreamvisorHeader(field: string): boolean {
  // Most fields do not start with `x-`: two character codes settle them without a hash lookup.
  if (field.charCodeAt(0) !== 120 || field.charCodeAt(1) !== 45) return false;
  return STREAMVISOR_HEADERS.has(field) || field.startsWith('x-dead-');
}

/**
 * How often `entry` went through the retry scheduler already (its `x-retry-attempt` header; 0 when
 * absent or not a whole number).
 *
 * @example
 * scheduledAttempts({ id: '1-0', fields: { type: 't', 'x-retry-attempt': '2' }, deliveries: 1 }) // 2
 */
export function scheduledAttempts(entry: StreamEntry): number {
  const raw = entry.fields[RETRY_ATTEMPT_FIELD];
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return 0;
  return Number(raw);
}
