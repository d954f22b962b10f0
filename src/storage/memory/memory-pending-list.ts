import { compareStreamIds, type IdBound, type StreamId, seekStart } from './memory-stream-id.js';

/** A consumer of an in-memory group (XINFO CONSUMERS): its own PEL and when it was last seen. */
export interface MemoryConsumer {
  readonly name: string;
  /** Clock ms of the last read or claim that returned something (Redis' `seen-time`). */
  seenTime: number;
  /** Its pending entries by id, in no particular order. */
  readonly pending: Map<string, PendingItem>;
}

/** One entry of a group PEL (Redis' `streamNACK`). */
export interface PendingItem extends StreamId {
  consumer: MemoryConsumer;
  /** Clock ms of the last delivery, claim or touch. */
  deliveryTime: number;
  deliveryCount: number;
  /** Set once acked or dropped; the slot in the ordered array is reclaimed lazily. */
  removed: boolean;
}

// Compact once this many removed slots pile up (and they outnumber the live ones).
const COMPACT_AFTER = 1024;

/**
 * A group's pending entries list: a map by id for O(1) ack and claim, and an id-ordered array with
 * a head offset for ordered walks (XPENDING, XAUTOCLAIM) that start anywhere by binary search.
 * Acked items are only flagged; the array is compacted when flagged slots dominate, so ack is
 * amortised O(1) and memory stays proportional to the live PEL.
 *
 * @example
 * const pel = new PendingList()
 * pel.insert(item)
 * pel.scan({ at: ZERO_ID, exclusive: false }, (pending) => ids.push(pending.id) < 100)   // first 100 ids
 */
export class PendingList {
  #byId = new Map<string, PendingItem>();
  #order: PendingItem[] = [];
  #head = 0;
  #removedSlots = 0;

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): PendingItem | undefined {
    return this.#byId.get(id);
  }

  /** Add a new item (its id is not pending yet). Reads add ids in increasing order: O(1). */
  insert(item: PendingItem): void {
    this.#byId.set(item.id, item);
    const last = this.#order[this.#order.length - 1];
    if (last === undefined || compareStreamIds(last, item) < 0) {
      this.#order.push(item);
      return;
    }
    const index = seekStart(this.#order, this.#head, { at: item, exclusive: false });
    this.#order.splice(index, 0, item);
  }

  /** Remove an item from the group PEL and from its consumer's PEL. */
  remove(item: PendingItem): void {
    if (item.removed) return;
    item.removed = true;
    this.#byId.delete(item.id);
    item.consumer.pending.delete(item.id);
    this.#removedSlots++;
    while (this.#order[this.#head]?.removed === true) {
      this.#head++;
      this.#removedSlots--;
    }
    if (this.#head === this.#order.length) {
      this.#order = [];
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    if (this.#removedSlots > COMPACT_AFTER && this.#removedSlots > this.#byId.size) {
      this.#order = this.#order.slice(this.#head).filter((slot) => !slot.removed);
      this.#head = 0;
      this.#removedSlots = 0;
    }
  }

  /**
   * Visit live items in id order from `start`, until `visit` returns `false` or the list ends.
   * `visit` must not remove items; collect them and remove afterwards.
   */
  scan(start: IdBound, visit: (item: PendingItem) => boolean): void {
    const order = this.#order;
    let index = seekStart(order, this.#head, start);
    for (let item = order[index]; item !== undefined; item = order[++index]) {
      if (!item.removed && !visit(item)) return;
    }
  }

  /** Every live item, in id order. */
  values(): PendingItem[] {
    return this.#order.slice(this.#head).filter((item) => !item.removed);
  }
}
