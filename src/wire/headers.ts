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
  'x-retry-attempt',
  'x-partition-key',
  'x-replayed-from',
  'x-dead-reason',
  'x-dead-error',
  'x-dead-at',
  'x-source-stream',
  'x-source-id',
  'x-group',
  'x-deliveries',
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
