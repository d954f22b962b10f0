import type { StreamFields } from '../stream-storage.js';
import type { MemoryGroup } from './memory-group.js';
import {
  beforeEnd,
  compareStreamIds,
  type IdBound,
  type StreamId,
  seekStart,
  ZERO_ID,
} from './memory-stream-id.js';
import { REDIS_NODE_LIMITS, type StreamNodeLimits, StreamNodes } from './memory-stream-nodes.js';

/** One stored entry. `fields` is private to the storage: copy it before handing it out. */
export interface StoredEntry extends StreamId {
  readonly fields: StreamFields;
  deleted: boolean;
}

// Reclaim array slots of deleted entries once this many pile up (and they outnumber the live ones).
const COMPACT_AFTER = 1024;

/**
 * One stream key: its entries in id order (an array with a head offset, plus a map by id), the
 * counters Redis keeps for XINFO (last id, entries added, largest deleted id) and its groups.
 * Trimming from the head and deleting anywhere are amortised O(1); range reads start with a binary
 * search. `trim` is Redis' `MAXLEN ~`: it drops whole listpack nodes, laid out as Redis lays them out
 * (see memory-stream-nodes.ts).
 *
 * @example
 * const stream = new MemoryStream()
 * const entry = stream.append({ type: 't' }, clock.now())   // { id: '1700000000000-0', ... }
 * stream.trim(1000)
 */
export class MemoryStream {
  /** Live entries (XLEN). */
  length = 0;
  /** Id of the last entry ever added (Redis keeps it after deletes and trims); may be that entry itself. */
  lastId: StreamId = ZERO_ID;
  /** Entries ever added (Redis 7 `entries-added`). */
  entriesAdded = 0;
  /** Largest id ever removed by XDEL (Redis 7 `max-deleted-entry-id`); trimming does not count. */
  maxDeletedId: StreamId = ZERO_ID;
  /** Groups by name. */
  readonly groups = new Map<string, MemoryGroup>();

  #entries: StoredEntry[] = [];
  #head = 0;
  #deletedSlots = 0;
  readonly #nodes: StreamNodes;

  /** `limits`: the `stream-node-max-entries` and `-bytes` of the Redis to agree with. */
  constructor(limits: StreamNodeLimits = REDIS_NODE_LIMITS) {
    this.#nodes = new StreamNodes(limits);
  }

  /** Append an entry with the next id at `nowMs` (XADD `*`). */
  append(fields: StreamFields, nowMs: number): StoredEntry {
    // Redis' streamNextID: the clock's ms, or the last ms with the next seq when the clock has not
    // moved past it (also when it went backwards).
    const last = this.lastId;
    const moved = nowMs > last.ms;
    const ms = moved ? nowMs : last.ms;
    const seq = moved ? 0 : last.seq + 1;
    const entry: StoredEntry = { ms, seq, id: `${ms}-${seq}`, fields, deleted: false };
    this.#entries.push(entry);
    this.#nodes.append(entry, fields);
    this.lastId = entry;
    this.length++;
    this.entriesAdded++;
    return entry;
  }

  /**
   * `MAXLEN ~ maxLen`: drop the oldest nodes while at least `maxLen` entries remain without them
   * (so a stream of fewer entries than a node holds is never trimmed, as in Redis).
   */
  trim(maxLen: number): void {
    const keepFrom = this.#nodes.trim(this.length, maxLen);
    if (keepFrom === undefined) return;
    this.#dropBefore(keepFrom, undefined);
    this.#reclaim();
  }

  /** `XTRIM MINID minId` (exact): remove every live entry before `minId`; resolves how many. */
  trimBefore(minId: StreamId): number {
    const removed: StoredEntry[] = [];
    this.#dropBefore(minId, removed);
    this.#nodes.trimBefore(minId, removed);
    this.#reclaim();
    return removed.length;
  }

  /** XDEL one id. Resolves whether it existed. */
  delete(id: StreamId): boolean {
    const entry = this.get(id);
    if (entry === undefined) return false;
    entry.deleted = true;
    this.#nodes.remove(entry);
    this.length--;
    this.#deletedSlots++;
    if (compareStreamIds(entry, this.maxDeletedId) > 0) {
      this.maxDeletedId = { ms: entry.ms, seq: entry.seq, id: entry.id };
    }
    this.#reclaim();
    return true;
  }

  /**
   * The live entry with this id: a binary search, O(log n). (A map by id would make every add pay
   * for hashing a fresh id string, which costs more than all lookups by id together.)
   */
  get(id: StreamId): StoredEntry | undefined {
    const entry = this.#entries[seekStart(this.#entries, this.#head, { at: id, exclusive: false })];
    return entry !== undefined && !entry.deleted && compareStreamIds(entry, id) === 0 ? entry : undefined;
  }

  /** First live entry, if any (Redis' `first_id`, which is `0-0` for an empty stream). */
  get firstId(): StreamId {
    this.#skipDeletedHead();
    return this.#entries[this.#head] ?? ZERO_ID;
  }

  /** Last live entry's id, `0-0` when empty (Redis' `streamLastValidID`). */
  lastValidId(): StreamId {
    const entries = this.#entries;
    for (let index = entries.length - 1; index >= this.#head; index--) {
      const entry = entries[index];
      if (entry !== undefined && !entry.deleted) return entry;
    }
    return ZERO_ID;
  }

  /** Live entries from `start` to `end`, at most `count` (0: all). */
  range(start: IdBound, end: IdBound, count: number): StoredEntry[] {
    const found: StoredEntry[] = [];
    const entries = this.#entries;
    let index = seekStart(entries, this.#head, start);
    for (let entry = entries[index]; entry !== undefined; entry = entries[++index]) {
      if (!beforeEnd(entry, end)) break;
      if (entry.deleted) continue;
      found.push(entry);
      if (found.length === count) break;
    }
    return found;
  }

  /** Live entries after `id`, at most `count`. */
  after(id: StreamId, count: number): StoredEntry[] {
    const found: StoredEntry[] = [];
    const entries = this.#entries;
    let index = seekStart(entries, this.#head, { at: id, exclusive: true });
    for (let entry = entries[index]; entry !== undefined; entry = entries[++index]) {
      if (entry.deleted) continue;
      found.push(entry);
      if (found.length === count) break;
    }
    return found;
  }

  /**
   * Redis' `streamRangeHasTombstones(s, start, NULL)`: whether an XDEL hole may lie at or after
   * `start` among the current entries.
   */
  hasTombstonesFrom(start: StreamId): boolean {
    if (this.length === 0 || compareStreamIds(this.maxDeletedId, ZERO_ID) === 0) return false;
    if (compareStreamIds(this.firstId, this.maxDeletedId) > 0) return false;
    return compareStreamIds(start, this.maxDeletedId) <= 0;
  }

  /**
   * Redis' `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of `id`, or `null`
   * when it cannot be known (an id in the middle of a fragmented stream, or in the future).
   */
  estimateEntriesRead(id: StreamId): number | null {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && compareStreamIds(id, this.lastId) < 1) return this.entriesAdded;
    const toLast = compareStreamIds(id, this.lastId);
    if (toLast === 0) return this.entriesAdded;
    if (toLast > 0) return null;
    const first = this.firstId;
    const noHoles =
      compareStreamIds(this.maxDeletedId, ZERO_ID) === 0 || compareStreamIds(this.maxDeletedId, first) < 0;
    if (noHoles) {
      const toFirst = compareStreamIds(id, first);
      if (toFirst < 0) return this.entriesAdded - this.length;
      if (toFirst === 0) return this.entriesAdded - this.length + 1;
    }
    return null;
  }

  /** Redis' XINFO GROUPS `lag` of a group, `null` when it cannot be known. */
  lagOf(group: MemoryGroup): number | null {
    if (this.entriesAdded === 0) return 0;
    if (group.entriesRead !== null && !this.hasTombstonesFrom(group.lastId)) {
      return this.entriesAdded - group.entriesRead;
    }
    const read = this.estimateEntriesRead(group.lastId);
    return read === null ? null : this.entriesAdded - read;
  }

  /**
   * Move the head past every entry before `id`, deleting the live ones (collected into `removed` when
   * given: `trim` passes none, so it allocates nothing).
   */
  #dropBefore(id: StreamId, removed: StoredEntry[] | undefined): void {
    const entries = this.#entries;
    for (let entry = entries[this.#head]; entry !== undefined; entry = entries[this.#head]) {
      if (compareStreamIds(entry, id) >= 0) return;
      this.#head++;
      if (entry.deleted) {
        this.#deletedSlots--;
      } else {
        entry.deleted = true;
        this.length--;
        removed?.push(entry);
      }
    }
  }

  #skipDeletedHead(): void {
    while (this.#entries[this.#head]?.deleted === true) {
      this.#head++;
      this.#deletedSlots--;
    }
  }

  #reclaim(): void {
    this.#skipDeletedHead();
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    if (this.#deletedSlots > COMPACT_AFTER && this.#deletedSlots > this.length) {
      this.#entries = this.#entries.slice(this.#head).filter((entry) => !entry.deleted);
      this.#head = 0;
      this.#deletedSlots = 0;
    }
  }
}
