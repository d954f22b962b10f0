import type { EntryWrite, StreamStorage } from '../storage/stream-storage.js';
import { assertCount, assertName, describe } from '../storage/validate.js';
import { injectTraceContext } from '../telemetry/inject-trace-context.js';
import { PARTITION_KEY_FIELD } from './headers.js';
import { assertPartitions, partitionOf, partitionStream } from './partitions.js';

/** Options of `publish`. */
export interface PublishOptions {
  /**
   * The partition key (a customer, an order, …). With `partitions`, it picks the partition
   * (`partitionOf(key, partitions)`): the same key always lands in the same partition, in order. It is
   * also written as the `x-partition-key` header. @default none: a random partition
   */
  key?: string;
  /**
   * How many partitions the logical stream has (the consumers' `partitions`); the message goes to
   * `${stream}:{i}`. Without it the message goes to `stream` itself. @default none
   */
  partitions?: number;
  /** Extra fields (headers) besides `type` and `payload`. @default none */
  headers?: Readonly<Record<string, string>>;
  /** Trim the stream to about this many entries (`MAXLEN ~`). @default unbounded */
  maxLen?: number;
  /** Source of the random partition of a message without `key`, in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * Write the active OpenTelemetry context as headers (`traceparent`, `tracestate`) through the
   * global propagator, so the consumer's span joins the producer's trace. Explicit `headers` win.
   * @default true (a no-op without `@opentelemetry/api` or a registered propagator)
   */
  telemetry?: boolean;
}

/** Where `publish` wrote a message. */
export interface Published {
  /** The physical stream (`orders:{3}`, or `orders` when not partitioned). */
  stream: string;
  /** The entry's id in that stream. */
  id: string;
  /** The partition, or `null` when not partitioned. */
  partition: number | null;
}

/**
 * Publish one message in the wire format (`type`, `payload` as JSON, headers) to a stream, or to one
 * partition of a partitioned stream picked by the key's hash (32-bit FNV-1a of its UTF-8 bytes, modulo
 * `partitions`; stable across versions). Messages with the same key land in the same partition in
 * publishing order; consumers keep that order when their `orderingKey` returns the key (it is in the
 * `x-partition-key` header).
 *
 * @throws TypeError on a bad argument (an empty type, a payload JSON cannot encode, a header named
 *   `type` or `payload`, a partitioned stream name with `{` or `}`).
 * @example
 * await publish(storage, 'orders', 'order.paid', { orderId: 42 }, { key: 'customer-7', partitions: 12 })
 * // → { stream: 'orders:{9}', id: '1700000000000-0', partition: 9 }
 * createRuntime({ storage, router, consumers: [{ stream: 'orders', group: 'billing', partitions: 12,
 *   orderingKey: (message) => message.fields['x-partition-key'] }] })
 */
export async function publish(
  storage: StreamStorage,
  stream: string,
  type: string,
  payload: unknown,
  options: PublishOptions = {},
): Promise<Published> {
  if (typeof storage !== 'object' || storage === null || typeof storage.add !== 'function') {
    throw new TypeError(`Expected \`storage\` to be a StreamStorage, got ${describe(storage)}`);
  }
  const { stream: target, fields, partition, maxLen } = encodePublish(stream, type, payload, options);
  const id = await storage.add(target, fields, maxLen === undefined ? {} : { maxLen });
  return { stream: target, id, partition };
}

/**
 * A message encoded as `publish` writes it (wire format, partition, headers, trace context), not yet
 * written: what `ctx.publish` buffers until its message's ack, and what `runtime.dispatch` returns.
 */
export interface OutputMessage extends EntryWrite {
  /** The physical stream (`orders:{3}`, or `orders` when not partitioned). */
  readonly stream: string;
  /** The partition, or `null` when not partitioned. */
  readonly partition: number | null;
}

/**
 * Encode one message the way `publish` writes it, without writing it: `{ stream, fields, partition,
 * maxLen? }`. The one encoder behind `publish` and `ctx.publish`.
 *
 * @throws TypeError on a bad argument, as `publish`.
 * @example
 * encodePublish('orders', 'order.paid', { orderId: 42 }, { key: 'customer-7', partitions: 12 })
 * // → { stream: 'orders:{9}', partition: 9, fields: { type: 'order.paid', payload: '{"orderId":42}', 'x-partition-key': 'customer-7' } }
 */
export function encodePublish(
  stream: string,
  type: string,
  payload: unknown,
  options: PublishOptions = {},
): OutputMessage {
  assertName('stream', stream);
  assertName('type', type);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}`);
  }
  const { key, partitions, headers, maxLen } = options;
  if (key !== undefined && typeof key !== 'string') {
    throw new TypeError(`Expected \`key\` to be a string, got ${describe(key)}`);
  }
  if (maxLen !== undefined) assertCount('maxLen', maxLen);
  if (options.telemetry !== undefined && typeof options.telemetry !== 'boolean') {
    throw new TypeError(`Expected \`telemetry\` to be a boolean, got ${describe(options.telemetry)}`);
  }
  const fields: Record<string, string> = { type };
  if (payload !== undefined) {
    const json = JSON.stringify(payload);
    if (json === undefined)
      throw new TypeError(`Expected \`payload\` to be JSON-encodable, got ${describe(payload)}`);
    fields.payload = json;
  }
  if (key !== undefined) fields[PARTITION_KEY_FIELD] = key;
  if (options.telemetry !== false) injectTraceContext(fields);
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name === 'type' || name === 'payload') {
      throw new TypeError(`Expected \`headers\` not to set "${name}"; pass it as an argument`);
    }
    if (typeof value !== 'string') {
      throw new TypeError(`Expected header "${name}" to be a string, got ${describe(value)}`);
    }
    fields[name] = value;
  }
  let target = stream;
  let partition: number | null = null;
  if (partitions !== undefined) {
    assertPartitions('partitions', partitions);
    const random = options.random ?? Math.random;
    partition =
      key !== undefined
        ? partitionOf(key, partitions)
        : Math.min(Math.floor(random() * partitions), partitions - 1);
    target = partitionStream(stream, partition);
  }
  return maxLen === undefined
    ? { stream: target, fields, partition }
    : { stream: target, fields, partition, maxLen };
}
