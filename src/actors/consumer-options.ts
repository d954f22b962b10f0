import { hostname } from 'node:os';
import { assertCount, assertName, assertStartId, describe } from '../storage/validate.js';
import type { Message } from '../wire/message.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../wire/message.js';
import { assertPartitionable, assertPartitions, partitionStream } from '../wire/partitions.js';
import { type LeaseOptions, partitionReader, type ResolvedLease, resolveLeaseTtl } from './lease-options.js';
import { type ResolvedRetention, type RetentionOptions, resolveRetention } from './retention-options.js';

/** One supervised consumer: a stream, a group, and how to consume it. */
export interface ConsumerOptions extends LeaseOptions {
  stream: string;
  group: string;
  /** Consumer name within the group. Give a stable one (e.g. the pod name) to re-process this
   * consumer's own pending entries right after a crash. @default `${hostname}-${pid}-${n}` */
  consumer?: string;
  /** Id of this consumer in snapshots and events (with `partitions`, partition i gets `${id}:{i}`).
   * @default `${stream}/${group}/${consumer}` (with `partitions`: `${stream}:{i}/${group}/${consumer}`) */
  id?: string;
  /**
   * Consume the logical stream `stream` as `partitions` physical streams `${stream}:{0}` …
   * `${stream}:{N-1}` (publish to them with `publish(storage, stream, type, payload, { key, partitions })`):
   * one supervised consumer per partition, all with this consumer name, each with its own dead-letter
   * stream `${stream}:{i}:dead`. The hash tag `{i}` spreads the partitions over Redis Cluster shards.
   * `stream` must not contain `{` or `}`. @default none (one stream)
   */
  partitions?: number;
  /**
   * Remove other consumer names of the group idle at least this long (ms) that have nothing pending,
   * during recovery (every `claim.intervalMs`); a name with pending entries is never removed, and a live
   * consumer that was removed is re-created by its next read. `false` turns it off. Needs a storage
   * with `deleteIdleConsumers` (`RedisStreamStorage`). @default 3600000 (one hour)
   */
  staleConsumerMs?: number | false;
  /** Most entries per read; never more than free capacity (workers + read-ahead). @default concurrency + read-ahead */
  count?: number;
  /**
   * Messages read ahead of free workers, waiting in process for the next free one (they are pending
   * and owned by this consumer meanwhile). Larger reads mean fewer round trips for fast handlers; 0
   * for slow handlers lets other consumers of the group get the work. @default adaptive: fast handlers
   * (shorter than a read's round trip) get read-ahead, slow ones none (see docs/performance.md)
   */
  prefetch?: number;
  /** Dispatch workers: messages handled at the same time. @default 8 */
  concurrency?: number;
  /** Longest a read blocks waiting for entries, ms. @default 2000 */
  blockMs?: number;
  /**
   * Where a NEW group starts: `0` (every entry in the stream, so messages published before the
   * consumer first ran are handled, as the Python design's `create_group` does), `$` (only entries
   * added after the group is created: for a stream whose history must not be processed; what is
   * published between a deploy and the group's creation is skipped) or an id. An existing group keeps
   * its position; after a NOGROUP the group is recreated at the last id this consumer saw. @default '0'
   */
  startId?: string;
  claim?: {
    /** Entries idle this long (ms) in another consumer's PEL are claimed. @default 60000 */
    minIdleMs?: number;
    /** How often to look for them, ms. @default 30000 */
    intervalMs?: number;
  };
  retry?: {
    /** Attempts in process, the first included. @default 3 */
    attempts?: number;
    /** Exponential backoff between attempts, with jitter. @default { initialMs: 200, maxMs: 10000 } */
    backoff?: { initialMs?: number; maxMs?: number };
    /**
     * Durable retries through `createRuntime({ retryScheduler })`, once the in-process attempts are
     * used up. A message is scheduled again while its `x-retry-attempt` header (how often it was
     * scheduled) is below `attempts`, then dead-lettered (`handler-error`). The delay of scheduled
     * attempt n is `min(maxMs, initialMs·2^(n-1))`, equal jitter (half to all of it).
     * @default { attempts: 5, backoff: { initialMs: 10000, maxMs: 3600000 } }
     */
    scheduled?: { attempts?: number; backoff?: { initialMs?: number; maxMs?: number } };
  };
  deadLetter?: {
    /** @default `${stream}:dead` */
    stream?: string;
    /** Dead-letter a message delivered more often than this, without calling a handler. @default 10 */
    maxDeliveries?: number;
    /** Trim the dead-letter stream to about this many entries. @default unbounded */
    maxLen?: number;
  };
  /**
   * Messages with the same key run one after another in stream order, retries included; others in
   * parallel. With a `retryScheduler`, a failing message of a key is retried in place (it stays
   * pending and holds its key for the scheduled delay) rather than re-added behind the later ones;
   * once it is dead-lettered the key moves on (docs/scaling.md, "Ordered retries").
   */
  orderingKey?: (message: Message) => string | undefined;
  /** Payloads larger than this are dead-lettered (`malformed-payload`). @default 1048576 */
  maxPayloadBytes?: number;
  /** What to do with a message whose type has no handler: ack it (counted, logged at debug) or dead-letter it. @default 'ack' */
  unrouted?: 'ack' | 'dead-letter';
  /** Abort a handler attempt after this long (ms) and count it as failed. @default none */
  handlerTimeoutMs?: number;
  /**
   * Trim the stream every `intervalMs` of what every consumer group has delivered and acked, keeping
   * the last `keepMs` of history (see retention.ts). @default none: the stream is never trimmed
   */
  retention?: RetentionOptions;
}

/** A consumer's options with every default filled in. */
export interface ResolvedConsumer {
  id: string;
  stream: string;
  group: string;
  consumer: string;
  /** Most entries per read; `null`: as many as there is free capacity. */
  count: number | null;
  concurrency: number;
  /** Fixed read-ahead; `null`: adaptive (see consumer/read-size.ts). */
  prefetch: number | null;
  blockMs: number;
  startId: string;
  claim: { minIdleMs: number; intervalMs: number };
  retry: {
    attempts: number;
    backoff: { initialMs: number; maxMs: number };
    scheduled: { attempts: number; backoff: { initialMs: number; maxMs: number } };
  };
  deadLetter: { stream: string; maxDeliveries: number; maxLen: number | undefined };
  orderingKey: ((message: Message) => string | undefined) | undefined;
  maxPayloadBytes: number;
  unrouted: 'ack' | 'dead-letter';
  handlerTimeoutMs: number | undefined;
  /** `null`: stale consumers are left alone. */
  staleConsumerMs: number | null;
  /** `null`: the stream is never trimmed. */
  retention: ResolvedRetention | null;
  /** With `assignment: 'leased'`: the partition's lease (then `consumer` is the partition's reader). */
  lease?: ResolvedLease;
}

let consumerCounter = 0;

export function positive(what: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  assertCount(what, value, min);
  return value;
}

/**
 * Resolve one entry of `consumers`: one consumer, or with `partitions: N` one per partition
 * (`${stream}:{i}`, id `${stream}:{i}/${group}/${consumer}` or `${id}:{i}`), all sharing one consumer
 * name. Rejects bad options with a TypeError that says what to change.
 *
 * @example
 * resolveConsumers({ stream: 'orders', group: 'billing', consumer: 'pod-1', partitions: 2 }, 0)
 *   .map((c) => c.id) // ['orders:{0}/billing/pod-1', 'orders:{1}/billing/pod-1']
 */
export function resolveConsumers(options: ConsumerOptions, index: number): ResolvedConsumer[] {
  if (typeof options !== 'object' || options === null) return [resolveConsumer(options, index)];
  const ttlMs = resolveLeaseTtl(options, index);
  if (options.partitions === undefined) return [resolveConsumer(options, index)];
  const { partitions, assignment: _, leaseTtlMs: __, ...single } = options;
  assertPartitions(`consumers[${index}].partitions`, partitions);
  assertPartitionable(`consumers[${index}].stream`, options.stream);
  if (options.consumer !== undefined) assertName(`consumers[${index}].consumer`, options.consumer);
  const consumer = options.consumer ?? defaultConsumerName();
  return Array.from({ length: partitions }, (_, i) => {
    const stream = partitionStream(options.stream, i);
    const resolved = resolveConsumer(
      {
        ...single,
        stream,
        // A leased partition is read by a group consumer of its own, so its PEL follows the partition.
        consumer: ttlMs === null ? consumer : partitionReader(i),
        id: options.id === undefined ? `${stream}/${options.group}/${consumer}` : `${options.id}:{${i}}`,
      },
      index,
    );
    if (ttlMs === null) return resolved;
    return {
      ...resolved,
      lease: { stream: options.stream, partition: i, partitions, ttlMs, owner: consumer },
    };
  });
}

function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${++consumerCounter}`;
}

/** Fill defaults and reject bad options with a TypeError that says what to change. */
export function resolveConsumer(options: ConsumerOptions, index: number): ResolvedConsumer {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`consumers[${index}]\` to be an object, got ${describe(options)}`);
  }
  const at = (name: string) => `consumers[${index}].${name}`;
  assertName(at('stream'), options.stream);
  assertName(at('group'), options.group);
  if (options.consumer !== undefined) assertName(at('consumer'), options.consumer);
  if (options.partitions !== undefined) {
    throw new TypeError(
      `Expected \`consumers[${index}]\` to be resolved with resolveConsumers (it has partitions)`,
    );
  }
  const consumer = options.consumer ?? defaultConsumerName();
  const concurrency = positive(at('concurrency'), options.concurrency, 8);
  const prefetch = options.prefetch === undefined ? null : positive(at('prefetch'), options.prefetch, 0, 0);
  if (concurrency > 1024)
    throw new TypeError(`Expected \`${at('concurrency')}\` to be at most 1024, got ${concurrency}`);
  const startId = options.startId ?? '0';
  assertStartId(startId);
  for (const fn of ['orderingKey'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') {
      throw new TypeError(`Expected \`${at(fn)}\` to be a function, got ${describe(options[fn])}`);
    }
  }
  if (options.unrouted !== undefined && options.unrouted !== 'ack' && options.unrouted !== 'dead-letter') {
    throw new TypeError(
      `Expected \`${at('unrouted')}\` to be 'ack' or 'dead-letter', got ${describe(options.unrouted)}`,
    );
  }
  const stale = options.staleConsumerMs;
  if (stale !== undefined && stale !== false) assertCount(at('staleConsumerMs'), stale, 1);
  const initialMs = positive(at('retry.backoff.initialMs'), options.retry?.backoff?.initialMs, 200, 0);
  return {
    id: options.id ?? `${options.stream}/${options.group}/${consumer}`,
    stream: options.stream,
    group: options.group,
    consumer,
    concurrency,
    prefetch,
    count:
      options.count === undefined
        ? null
        : Math.min(
            positive(at('count'), options.count, 1),
            prefetch === null ? Infinity : concurrency + prefetch,
          ),
    blockMs: positive(at('blockMs'), options.blockMs, 2000),
    startId,
    claim: {
      minIdleMs: positive(at('claim.minIdleMs'), options.claim?.minIdleMs, 60_000, 1),
      intervalMs: positive(at('claim.intervalMs'), options.claim?.intervalMs, 30_000, 1),
    },
    retry: {
      attempts: positive(at('retry.attempts'), options.retry?.attempts, 3),
      backoff: {
        initialMs,
        maxMs: positive(at('retry.backoff.maxMs'), options.retry?.backoff?.maxMs, 10_000, 0),
      },
      scheduled: resolveScheduled(options.retry?.scheduled, at),
    },
    deadLetter: {
      stream: options.deadLetter?.stream ?? `${options.stream}:dead`,
      maxDeliveries: positive(at('deadLetter.maxDeliveries'), options.deadLetter?.maxDeliveries, 10),
      maxLen:
        options.deadLetter?.maxLen === undefined
          ? undefined
          : positive(at('deadLetter.maxLen'), options.deadLetter.maxLen, 1),
    },
    orderingKey: options.orderingKey,
    maxPayloadBytes: positive(at('maxPayloadBytes'), options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES),
    unrouted: options.unrouted ?? 'ack',
    handlerTimeoutMs:
      options.handlerTimeoutMs === undefined
        ? undefined
        : positive(at('handlerTimeoutMs'), options.handlerTimeoutMs, 1),
    staleConsumerMs: stale === false ? null : (stale ?? 3_600_000),
    retention: resolveRetention(options.retention, at('retention')),
  };
}

function resolveScheduled(
  scheduled: NonNullable<ConsumerOptions['retry']>['scheduled'],
  at: (name: string) => string,
): ResolvedConsumer['retry']['scheduled'] {
  const backoff = scheduled?.backoff;
  return {
    attempts: positive(at('retry.scheduled.attempts'), scheduled?.attempts, 5, 0),
    backoff: {
      initialMs: positive(at('retry.scheduled.backoff.initialMs'), backoff?.initialMs, 10_000, 0),
      maxMs: positive(at('retry.scheduled.backoff.maxMs'), backoff?.maxMs, 3_600_000, 0),
    },
  };
}
