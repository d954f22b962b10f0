/**
 * The storage layer every consumer runs on: the Redis Streams commands streamvisor needs, with
 * Redis' semantics. Two implementations pass one contract suite (`describeStreamStorageContract` in
 * `streamvisor/testing`): `RedisStreamStorage` (ioredis, also Cluster) and `MemoryStreamStorage` (in
 * process). Which methods the runtime calls, and which are optional: docs/storage.md.
 *
 * Common rules:
 * - Ids are Redis stream ids `<ms>-<seq>`.
 * - A missing group or stream raises `NoGroupError` from every method that needs a group.
 * - Connection failures raise `ConnectionError` (retriable); other Redis errors `RedisCommandError`.
 * - Bad arguments (empty names, count < 1, malformed ids, non-string field values) raise a
 *   `TypeError` that names the argument, before any command is sent.
 * - Every method of a closed storage rejects with `StorageClosedError`, except `close()`.
 */

import type { LeaseStore } from './lease-store.js';
import type { PreviewEntry, RangePreviewOptions } from './preview-entry.js';
import type {
  AddOptions,
  AutoClaimOptions,
  CopyEntryOptions,
  DeadLetterWrite,
  DeleteIdleConsumersOptions,
  EntryWrite,
  PendingOptions,
  RangeOptions,
  ReadGroupOptions,
  StreamFields,
} from './stream-storage-types.js';
import type { TrimAckedOptions } from './trim-acked.js';

export type {
  AddOptions,
  AutoClaimOptions,
  CopyEntryOptions,
  DeadLetterWrite,
  DeleteIdleConsumersOptions,
  EntryWrite,
  PendingOptions,
  RangeOptions,
  ReadGroupOptions,
  StreamFields,
} from './stream-storage-types.js';

/** One stream entry as delivered to a consumer. */
export interface StreamEntry {
  readonly id: string;
  readonly fields: StreamFields;
  /** How many times the group has delivered this entry, this delivery included (1 for a first read). */
  readonly deliveries: number;
  /**
   * Set by a storage of bytes (`RedisStreamStorage`) on an entry with a field name or value that is
   * not UTF-8: `fields` hold U+FFFD in place of those bytes. The runtime dead-letters it (reason
   * `malformed-encoding`) with its bytes intact.
   */
  readonly malformedEncoding?: true;
}

/** One entry of a group's pending entries list (XPENDING extended form). */
export interface PendingEntry {
  readonly id: string;
  /** The consumer that owns the entry. */
  readonly consumer: string;
  /** Milliseconds since the entry was last delivered (or touched). */
  readonly idleMs: number;
  readonly deliveries: number;
}

/** Result of `autoClaim` and `claim`. */
export interface ClaimResult {
  /** Cursor for the next `autoClaim` call; `'0-0'` when the walk is complete. (`claim` returns `'0-0'`.) */
  readonly cursor: string;
  /** Entries now owned by the claiming consumer, with their delivery counts after the claim. */
  readonly entries: StreamEntry[];
  /** Ids that were pending but whose entries no longer exist in the stream (trimmed or XDEL'd). */
  readonly deletedIds: string[];
}

/** XINFO GROUPS, one group. */
export interface GroupInfo {
  readonly name: string;
  readonly consumers: number;
  readonly pending: number;
  readonly lastDeliveredId: string;
  /** Entries the group has read (Redis 7+), `null` when Redis cannot tell. */
  readonly entriesRead: number | null;
  /** Entries not yet delivered to the group, `null` when Redis cannot tell. */
  readonly lag: number | null;
}

/** XINFO CONSUMERS, one consumer. */
export interface ConsumerInfo {
  readonly name: string;
  readonly pending: number;
  /** Milliseconds since the consumer's last attempted interaction (read, claim). */
  readonly idleMs: number;
  /** Milliseconds since the last successful interaction, `null` if it never had one (Redis 7.2+; else `null`). */
  readonly inactiveMs: number | null;
}

/** Plain entry without a delivery count (XRANGE). */
export interface RangeEntry {
  readonly id: string;
  readonly fields: StreamFields;
}

/**
 * The Redis Streams operations streamvisor runs on.
 *
 * @example
 * const storage: StreamStorage = new MemoryStreamStorage()
 * await storage.ensureGroup('events', 'bot', '$')
 * await storage.add('events', { type: 'user.joined', payload: '{"id":1}' })
 * const [entry] = await storage.readGroup('events', 'bot', 'bot-1', { count: 10, blockMs: 1000 })
 * await storage.ack('events', 'bot', [entry.id])
 */
export interface StreamStorage {
  /** `'redis'` or `'memory'`, for logs and the dashboard. */
  readonly kind: 'redis' | 'memory';

  /**
   * `XGROUP CREATE stream group startId MKSTREAM`. Resolves `true` when the group was created, `false`
   * when it already existed (BUSYGROUP). `startId` is `$` (only new entries), `0` (all history) or an id.
   * @default startId '$'
   */
  ensureGroup(stream: string, group: string, startId?: string): Promise<boolean>;

  /**
   * `XREADGROUP GROUP group consumer COUNT count [BLOCK blockMs] STREAMS stream >`: new entries only,
   * each added to the consumer's PEL with `deliveries: 1`. Resolves `[]` when nothing arrived within
   * `blockMs`. Raises `NoGroupError` when the group or stream is missing, also if it is deleted while
   * the read blocks. Redis implementations read on a dedicated connection per consumer.
   */
  readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]>;

  /** `XACK stream group ...ids`. Resolves how many were pending. An empty `ids` resolves 0 without a command. */
  ack(stream: string, group: string, ids: readonly string[]): Promise<number>;

  /**
   * `XAUTOCLAIM stream group consumer minIdleMs cursor COUNT count`: one page of a walk over the PEL,
   * claiming entries idle at least `minIdleMs`. Claimed entries' delivery counts are incremented and
   * reported. Ids whose entries were deleted come back in `deletedIds` (Redis drops them from the PEL).
   */
  autoClaim(stream: string, group: string, consumer: string, options: AutoClaimOptions): Promise<ClaimResult>;

  /**
   * `XCLAIM stream group consumer minIdleMs ...ids`: claim the given pending ids (e.g. this consumer's
   * own PEL after a restart), incrementing delivery counts. Ids not pending or not idle enough are
   * skipped; ids whose entries were deleted are removed from the PEL and listed in `deletedIds`.
   */
  claim(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
    options: { minIdleMs: number },
  ): Promise<ClaimResult>;

  /**
   * `XCLAIM stream group consumer 0 ...ids JUSTID`: reset the idle time of in-flight ids so no other
   * consumer's `autoClaim` takes them; does not change delivery counts. Resolves the ids still pending.
   */
  touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<string[]>;

  /** `XPENDING stream group [IDLE minIdleMs] start end count [consumer]`, ordered by id. */
  pending(stream: string, group: string, options: PendingOptions): Promise<PendingEntry[]>;

  /** `XADD stream [MAXLEN ~ maxLen] * ...fields`. Resolves the new id. `fields` must not be empty. */
  add(stream: string, fields: StreamFields, options?: AddOptions): Promise<string>;

  /** `XRANGE stream start end [COUNT count]`. A missing stream resolves `[]`. */
  range(stream: string, options?: RangeOptions): Promise<RangeEntry[]>;

  /**
   * `XRANGE` with every entry cut to a bounded size: per entry its id, its true size in bytes, and
   * its fields with values cut to `maxValueBytes` (at a character boundary; `truncated` gives the full
   * length), at most `maxFields` of them besides `keep`. What lists show (dead letters): a list of big
   * entries costs the preview, not the entries. `RedisStreamStorage` cuts on the server (a Lua
   * script), so the whole entries never reach this process. A missing stream resolves `[]`.
   * Optional: without it, callers read whole entries with `range` and cut them in process.
   */
  rangePreview?(stream: string, options: RangePreviewOptions): Promise<PreviewEntry[]>;

  /** `XDEL stream ...ids`. Resolves how many were deleted. */
  delete(stream: string, ids: readonly string[]): Promise<number>;

  /** `XLEN stream` (0 for a missing stream). */
  length(stream: string): Promise<number>;

  /** `XINFO GROUPS stream`. A missing stream resolves `[]`. */
  groups(stream: string): Promise<GroupInfo[]>;

  /** `XINFO CONSUMERS stream group`. Raises `NoGroupError` when the group is missing. */
  consumers(stream: string, group: string): Promise<ConsumerInfo[]>;

  /** `XGROUP DELCONSUMER stream group consumer`. Resolves how many pending entries the consumer had. */
  deleteConsumer(stream: string, group: string, consumer: string): Promise<number>;

  /**
   * Remove the consumers of `group` idle at least `minIdleMs` that have nothing pending (never one with
   * pending entries, never `keep`), in one atomic step. Resolves the names removed; raises
   * `NoGroupError` when the group is missing. Optional: the runtime cleans up stale consumer names
   * (`staleConsumerMs`) only on storages that have it (`RedisStreamStorage` does: many processes share
   * a group only through Redis).
   */
  deleteIdleConsumers?(stream: string, group: string, options: DeleteIdleConsumersOptions): Promise<string[]>;

  /**
   * Trim the entries every consumer group of `stream` has both delivered and acked, atomically: the
   * bound is the lowest, over all groups, of the oldest pending id (kept) and the id after the last
   * delivered one; an entry pending in any group, or not yet delivered to one, is never removed, nor
   * anything when the stream has no group. `keepMs` also keeps recent entries. Resolves how many
   * entries were removed (0 for a missing stream). Optional: the consumer option `retention` needs it
   * (both storages here have it).
   */
  trimAcked?(stream: string, options?: TrimAckedOptions): Promise<number>;

  /**
   * Partition leases and runtime membership, for consumers with `assignment: 'leased'` (see
   * lease-store.ts). Optional: both storages here have it; a storage without it cannot run leased
   * consumers (`createRuntime` says so).
   */
  readonly leases?: LeaseStore;

  /** `XGROUP DESTROY stream group`. Resolves whether a group was destroyed. Blocked readers get `NoGroupError`. */
  destroyGroup(stream: string, group: string): Promise<boolean>;

  /**
   * Dead-letter one message: `XADD deadStream ...fields` then `XACK sourceStream group id`, in that
   * order on one connection (pipelined), so a crash in between duplicates a dead letter but never loses
   * the message. Resolves the dead-letter entry's id.
   */
  deadLetter(letter: DeadLetterWrite): Promise<string>;

  /**
   * `XADD stream * …` with the fields of entry `id` of `source` exactly as stored (bytes, not decoded
   * strings; see `CopyEntryOptions`). Resolves the new id, `null` when the entry is not there.
   * Optional: replay uses it for dead letters read with U+FFFD; a storage of strings has no bytes to keep.
   */
  copyEntry?(source: string, id: string, stream: string, options?: CopyEntryOptions): Promise<string | null>;

  /**
   * Acknowledge `id` in `group` of `stream` and, only if that XACK acked it (the entry was pending
   * in the group, whichever consumer owned it), add `entries` in order, all in one atomic step (one
   * Lua script on Redis). Resolves whether the entry was acked: `false` means another consumer (or
   * an earlier call) acked it first, and nothing was written. So a message two consumers both finish
   * (a slow one and the one that claimed it) writes its outputs once. Raises `NoGroupError` when the
   * group or stream is missing, and a `TypeError` on a bad entry before anything is acked. Optional:
   * `ctx.publish` in handlers needs it (both storages here have it).
   */
  ackAndAdd?(stream: string, group: string, id: string, entries: readonly EntryWrite[]): Promise<boolean>;

  /**
   * Whether keys `a` and `b` can be written in one atomic step (`ackAndAdd`): always on one Redis
   * server and in memory; on a Redis Cluster only when they hash to the same slot (a shared hash tag,
   * `{orders}` and `{orders}:out`). Optional: without it, any two keys can.
   */
  sameSlot?(a: string, b: string): boolean;

  /**
   * Close every connection and timer this storage opened. Idempotent (the same promise each call);
   * resolves even when Redis is unreachable. Pending blocking reads reject with `StorageClosedError`.
   */
  close(): Promise<void>;
}
