import { type MemoryConsumer, type PendingItem, PendingList } from './memory-pending-list.js';
import type { MemoryStream, StoredEntry } from './memory-stream.js';
import { afterStart, beforeEnd, compareStreamIds, type IdBound, type StreamId } from './memory-stream-id.js';

/** An entry handed to a consumer, with its delivery count after this delivery. */
export interface Delivery {
  readonly entry: StoredEntry;
  readonly deliveries: number;
}

/** What a claim did: what the consumer now owns, and pending ids whose entries were gone. */
export interface ClaimOutcome {
  readonly claimed: Delivery[];
  readonly deletedIds: string[];
  /** Next XAUTOCLAIM cursor (`0-0` when the walk is complete). */
  readonly cursor: string;
}

/** Consumer names in Redis' order (its radix tree sorts by bytes). */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * One consumer group of an in-memory stream, with Redis 7.0 semantics: last delivered id,
 * entries-read counter, a PEL (owner, delivery time, delivery count) and consumers that appear on
 * their first successful read or claim.
 *
 * @example
 * const group = new MemoryGroup('workers', stream.lastId)
 * const delivered = group.readNew(stream, 'worker-1', 10, clock.now())
 * group.ack(delivered.map(({ entry }) => entry.id))
 */
export class MemoryGroup {
  readonly pel = new PendingList();
  readonly consumers = new Map<string, MemoryConsumer>();
  /** `null` where Redis keeps `SCG_INVALID_ENTRIES_READ`. */
  entriesRead: number | null = null;

  constructor(
    readonly name: string,
    public lastId: StreamId,
  ) {}

  /** Redis' `streamLookupConsumer` (refreshing seen-time) + `streamCreateConsumer`. */
  consumer(name: string, nowMs: number): MemoryConsumer {
    let consumer = this.consumers.get(name);
    if (consumer === undefined) {
      consumer = { name, seenTime: nowMs, pending: new Map() };
      this.consumers.set(name, consumer);
    } else {
      consumer.seenTime = nowMs;
    }
    return consumer;
  }

  /**
   * `XREADGROUP ... >`: up to `count` entries after the last delivered id, each added to the PEL
   * of `consumerName` with delivery count 1. Creates the consumer only when something is delivered.
   */
  readNew(stream: MemoryStream, consumerName: string, count: number, nowMs: number): Delivery[] {
    const entries = stream.after(this.lastId, count);
    if (entries.length === 0) return [];
    const consumer = this.consumer(consumerName, nowMs);
    const delivered: Delivery[] = [];
    for (const entry of entries) {
      this.#advance(stream, entry);
      const existing = this.pel.get(entry.id);
      if (existing === undefined) {
        const item: PendingItem = {
          ms: entry.ms,
          seq: entry.seq,
          id: entry.id,
          consumer,
          deliveryTime: nowMs,
          deliveryCount: 1,
          removed: false,
        };
        this.pel.insert(item);
        consumer.pending.set(item.id, item);
      } else {
        // Only reachable when the last delivered id went backwards (Redis' XGROUP SETID): reassign.
        this.#moveTo(existing, consumer);
        existing.deliveryTime = nowMs;
        existing.deliveryCount = 1;
      }
      delivered.push({ entry, deliveries: 1 });
    }
    return delivered;
  }

  /** `XACK`: how many of `ids` (canonical) were pending. */
  ack(ids: readonly string[]): number {
    let acked = 0;
    for (const id of ids) {
      const item = this.pel.get(id);
      if (item === undefined) continue;
      this.pel.remove(item);
      acked++;
    }
    return acked;
  }

  /**
   * `XCLAIM stream group consumer minIdle ...ids [JUSTID]`, ids canonical and in the caller's order
   * (duplicates are claimed twice, as Redis does). Pending ids whose entries are gone leave the PEL.
   */
  claim(
    stream: MemoryStream,
    consumerName: string,
    ids: readonly StreamId[],
    minIdleMs: number,
    justId: boolean,
    nowMs: number,
  ): ClaimOutcome {
    const claimed: { entry: StoredEntry; item: PendingItem }[] = [];
    const deletedIds: string[] = [];
    let consumer: MemoryConsumer | undefined;
    for (const id of ids) {
      const item = this.pel.get(id.id);
      const entry = stream.get(id);
      if (entry === undefined) {
        if (item !== undefined) {
          this.pel.remove(item);
          deletedIds.push(item.id);
        }
        continue;
      }
      if (item === undefined) continue;
      if (minIdleMs > 0 && nowMs - item.deliveryTime < minIdleMs) continue;
      consumer ??= this.consumer(consumerName, nowMs);
      this.#take(item, consumer, justId, nowMs);
      claimed.push({ entry, item });
    }
    // Counts as they are after the whole command (an id given twice is claimed twice).
    const deliveries = claimed.map(({ entry, item }) => ({ entry, deliveries: item.deliveryCount }));
    return { claimed: deliveries, deletedIds, cursor: '0-0' };
  }

  /**
   * `XAUTOCLAIM stream group consumer minIdle cursor COUNT count`: examines at most `count * 10`
   * PEL items from `cursor`; claimed and deleted items both use up `count`.
   */
  autoClaim(
    stream: MemoryStream,
    consumerName: string,
    minIdleMs: number,
    cursor: StreamId,
    count: number,
    nowMs: number,
  ): ClaimOutcome {
    const attempts = count * 10;
    const window: PendingItem[] = [];
    // One more than can be examined, to know the next cursor.
    this.pel.scan({ at: cursor, exclusive: false }, (item) => window.push(item) <= attempts);
    const claimed: Delivery[] = [];
    const deletedIds: string[] = [];
    let consumer: MemoryConsumer | undefined;
    let left = count;
    let examined = 0;
    while (examined < attempts && left > 0) {
      const item = window[examined];
      if (item === undefined) break;
      examined++;
      const entry = stream.get(item);
      if (entry === undefined) {
        this.pel.remove(item);
        deletedIds.push(item.id);
        left--;
        continue;
      }
      if (minIdleMs > 0 && nowMs - item.deliveryTime < minIdleMs) continue;
      consumer ??= this.consumer(consumerName, nowMs);
      this.#take(item, consumer, false, nowMs);
      claimed.push({ entry, deliveries: item.deliveryCount });
      left--;
    }
    const next = window[examined];
    return { claimed, deletedIds, cursor: next === undefined ? '0-0' : next.id };
  }

  /** XPENDING extended form, in id order. */
  pending(
    start: IdBound,
    end: IdBound,
    count: number,
    minIdleMs: number,
    consumerName: string | undefined,
    nowMs: number,
  ): PendingItem[] {
    const found: PendingItem[] = [];
    const visit = (item: PendingItem): boolean => {
      if (!beforeEnd(item, end)) return false;
      if (minIdleMs > 0 && nowMs - item.deliveryTime < minIdleMs) return true;
      found.push(item);
      return found.length < count;
    };
    if (consumerName === undefined) {
      this.pel.scan(start, visit);
      return found;
    }
    const consumer = this.consumers.get(consumerName);
    if (consumer === undefined) return found;
    // A consumer's own PEL is unordered (claims move items between consumers): sort it, unless the
    // group PEL is small enough to walk.
    if (consumer.pending.size * 16 < this.pel.size) {
      const own = [...consumer.pending.values()].sort(compareStreamIds);
      for (const item of own) {
        if (!afterStart(item, start)) continue;
        if (!visit(item)) break;
      }
    } else {
      this.pel.scan(start, (item) => item.consumer !== consumer || visit(item));
    }
    return found;
  }

  /** `XGROUP DELCONSUMER`: drops the consumer and its pending entries; resolves how many it had. */
  deleteConsumer(name: string): number {
    const consumer = this.consumers.get(name);
    if (consumer === undefined) return 0;
    const pending = consumer.pending.size;
    for (const item of [...consumer.pending.values()]) this.pel.remove(item);
    this.consumers.delete(name);
    return pending;
  }

  /** Redis' group `last_id` / `entries_read` update for each entry delivered by XREADGROUP. */
  #advance(stream: MemoryStream, entry: StoredEntry): void {
    if (compareStreamIds(entry, this.lastId) <= 0) return;
    if (this.entriesRead !== null && !stream.hasTombstonesFrom(entry)) {
      this.entriesRead++;
    } else if (stream.entriesAdded > 0) {
      this.entriesRead = stream.estimateEntriesRead(entry);
    }
    this.lastId = { ms: entry.ms, seq: entry.seq, id: entry.id };
  }

  #take(item: PendingItem, consumer: MemoryConsumer, justId: boolean, nowMs: number): void {
    this.#moveTo(item, consumer);
    item.deliveryTime = nowMs;
    if (!justId) item.deliveryCount++;
  }

  #moveTo(item: PendingItem, consumer: MemoryConsumer): void {
    if (item.consumer === consumer) return;
    item.consumer.pending.delete(item.id);
    item.consumer = consumer;
    consumer.pending.set(item.id, item);
  }
}
