import type { Clock } from '../../clock.js';
import { NoGroupError } from '../../errors/no-group-error.js';
import type { ClaimResult, ConsumerInfo, GroupInfo, StreamEntry, StreamFields } from '../stream-storage.js';
import { BlockedReads } from './memory-blocked-reads.js';
import { byteOrder, type ClaimOutcome, type Delivery, type MemoryGroup } from './memory-group.js';
import { MemoryStream } from './memory-stream.js';
import { compareStreamIds } from './memory-stream-id.js';
import { REDIS_NODE_LIMITS, type StreamNodeLimits } from './memory-stream-nodes.js';

/**
 * The stream keys of one `MemoryStreamStorage` and the reads blocked on them: what Redis' keyspace
 * and its blocked-clients machinery do for streams. Arguments are already checked by the caller.
 *
 * @example
 * const keys = new MemoryKeyspace(systemClock)
 * keys.add('orders', { type: 'order.created' }, 10_000)
 * const { target, found } = keys.group('orders', 'billing')   // NoGroupError if missing
 */
export class MemoryKeyspace {
  readonly #clock: Clock;
  readonly #streams = new Map<string, MemoryStream>();
  readonly #blocked: BlockedReads;
  readonly #nodeLimits: StreamNodeLimits;

  /** `nodeLimits`: Redis' `stream-node-max-entries` and `-bytes`, where `MAXLEN ~` trims. */
  constructor(clock: Clock, nodeLimits: StreamNodeLimits = REDIS_NODE_LIMITS) {
    this.#clock = clock;
    this.#nodeLimits = nodeLimits;
    this.#blocked = new BlockedReads(clock);
  }

  /** Whole milliseconds, like Redis' `mstime()`. */
  now(): number {
    return Math.max(0, Math.floor(this.#clock.now()));
  }

  stream(name: string): MemoryStream | undefined {
    return this.#streams.get(name);
  }

  /** The stream, created empty when missing (XADD, XGROUP CREATE ... MKSTREAM). */
  streamOrCreate(name: string): MemoryStream {
    let target = this.#streams.get(name);
    if (target === undefined) {
      target = new MemoryStream(this.#nodeLimits);
      this.#streams.set(name, target);
    }
    return target;
  }

  /** The stream and its group, or `NoGroupError` when either is missing. */
  group(stream: string, group: string): { target: MemoryStream; found: MemoryGroup } {
    const target = this.#streams.get(stream);
    const found = target?.groups.get(group);
    if (target === undefined || found === undefined) throw new NoGroupError(stream, group);
    return { target, found };
  }

  /** XADD with `MAXLEN ~` (whole nodes), then serve the readers blocked on the stream. Resolves the new id. */
  add(stream: string, fields: StreamFields, maxLen: number | undefined): string {
    const target = this.streamOrCreate(stream);
    const entry = target.append({ ...fields }, this.now());
    if (maxLen !== undefined) target.trim(maxLen);
    this.#serveBlocked(stream);
    return entry.id;
  }

  /** Wait for entries of a group that had nothing new (XREADGROUP BLOCK). */
  block(
    stream: string,
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<StreamEntry[]> {
    return this.#blocked.wait({ stream, group, consumer, count }, blockMs);
  }

  /** XGROUP DESTROY. Like Redis, it signals the key: readers blocked on that group get NOGROUP. */
  destroyGroup(stream: string, group: string): boolean {
    const target = this.#streams.get(stream);
    if (target === undefined || !target.groups.delete(group)) return false;
    this.#serveBlocked(stream);
    return true;
  }

  /** DEL: every reader blocked on the key gets NOGROUP. */
  deleteStream(stream: string): boolean {
    if (!this.#streams.delete(stream)) return false;
    this.#serveBlocked(stream);
    return true;
  }

  /** Reject every blocked read, cancel its timer, and drop every stream. */
  clear(error: () => Error): void {
    this.#blocked.rejectAll(error);
    this.#streams.clear();
  }

  /** XINFO GROUPS, in Redis' order (by name bytes). */
  groupInfos(target: MemoryStream): GroupInfo[] {
    return [...target.groups.values()]
      .sort((a, b) => byteOrder(a.name, b.name))
      .map((group) => ({
        name: group.name,
        consumers: group.consumers.size,
        pending: group.pel.size,
        lastDeliveredId: group.lastId.id,
        entriesRead: group.entriesRead,
        lag: target.lagOf(group),
      }));
  }

  /** XINFO CONSUMERS on Redis 7.0 (no `inactive` yet), in Redis' order. */
  consumerInfos(group: MemoryGroup): ConsumerInfo[] {
    const now = this.now();
    return [...group.consumers.values()]
      .sort((a, b) => byteOrder(a.name, b.name))
      .map((consumer) => ({
        name: consumer.name,
        pending: consumer.pending.size,
        idleMs: Math.max(0, now - consumer.seenTime),
        inactiveMs: null,
      }));
  }

  /**
   * Redis' `serveClientsBlockedOnStreamKey`: in blocking order, a reader whose group is gone gets
   * NOGROUP, a reader whose group is behind the stream's last id is served; others wait on.
   */
  #serveBlocked(stream: string): void {
    const target = this.#streams.get(stream);
    for (const read of this.#blocked.on(stream)) {
      const group = target?.groups.get(read.group);
      if (target === undefined || group === undefined) {
        this.#blocked.settle(read, { error: new NoGroupError(stream, read.group) });
      } else if (compareStreamIds(target.lastId, group.lastId) > 0) {
        const now = this.now();
        // Redis creates (or refreshes) the consumer before reading, even if the read finds nothing.
        group.consumer(read.consumer, now);
        const entries = group.readNew(target, read.consumer, read.count, now).map(toStreamEntry);
        this.#blocked.settle(read, { entries });
      }
    }
  }
}

/** A fresh `StreamEntry` for a caller: fields are copied so nobody can change the stored entry. */
export function toStreamEntry({ entry, deliveries }: Delivery): StreamEntry {
  return { id: entry.id, fields: { ...entry.fields }, deliveries };
}

/** A fresh `ClaimResult` from what a claim did. */
export function toClaimResult(outcome: ClaimOutcome): ClaimResult {
  return {
    cursor: outcome.cursor,
    entries: outcome.claimed.map(toStreamEntry),
    deletedIds: outcome.deletedIds,
  };
}
