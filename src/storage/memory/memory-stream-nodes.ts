import type { StreamFields } from '../stream-storage.js';
import { compareStreamIds, type StreamId } from './memory-stream-id.js';

// Redis keeps a stream as a radix tree of listpack nodes, and `MAXLEN ~` only ever drops whole nodes.
// To trim where Redis trims, the twin keeps the same nodes: when Redis 7.0's streamAppendItem opens a
// new node (the tail has `maxEntries` entries, deleted ones included, or its listpack bytes plus the new
// entry's field and value bytes reach `maxBytes`), which node an XDEL empties (Redis frees it), and
// what streamTrim drops. Listpack sizes are counted as listpack.c encodes them (integers and strings
// that parse as integers take 1 to 9 bytes, strings 1, 2 or 5 bytes of header, plus a back-length).

/** `stream-node-max-entries` and `stream-node-max-bytes` of the Redis being mirrored. */
export interface StreamNodeLimits {
  /** Entries per node, deleted ones included; 0: no limit. @default 100 */
  readonly maxEntries: number;
  /** Listpack bytes per node; 0: Redis' hard limit of 1 GiB. @default 4096 */
  readonly maxBytes: number;
}

/** Redis 7's defaults. */
export const REDIS_NODE_LIMITS: StreamNodeLimits = { maxEntries: 100, maxBytes: 4096 };

const LISTPACK_MAX_BYTES = 2 ** 30;
/** Listpack header (total bytes, element count) and end byte. */
const LISTPACK_OVERHEAD = 7;
const SAMEFIELDS = 2;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

interface StreamNode {
  /** Id of the entry that opened the node (the radix-tree key). */
  readonly master: StreamId;
  readonly masterFields: readonly string[];
  /** Id of the last entry appended (deleted or not). */
  last: StreamId;
  /** Entries appended, deleted ones included. */
  size: number;
  /** Entries not deleted. */
  live: number;
  /** Listpack bytes, without the two counters of the master entry (their width changes). */
  bytes: number;
}

function backlen(encoded: number): number {
  if (encoded <= 127) return 1;
  if (encoded < 16383) return 2;
  if (encoded < 2097151) return 3;
  return encoded < 268435455 ? 4 : 5;
}

/** Bytes of one listpack element holding the integer `v`. */
function intElement(v: number): number {
  let encoded: number;
  if (v >= 0 && v <= 127) encoded = 1;
  else if (v >= -4096 && v <= 4095) encoded = 2;
  else if (v >= -32768 && v <= 32767) encoded = 3;
  else if (v >= -8388608 && v <= 8388607) encoded = 4;
  else if (v >= -2147483648 && v <= 2147483647) encoded = 5;
  else encoded = 9;
  return encoded + backlen(encoded);
}

const INTEGER = /^(?:0|-?[1-9][0-9]{0,19})$/;

/** Bytes of one listpack element holding `text` (stored as an integer when it reads as an int64). */
function stringElement(text: string): number {
  if (INTEGER.test(text)) {
    const value = BigInt(text);
    if (value >= INT64_MIN && value <= INT64_MAX) {
      return value > 2147483647n || value < -2147483648n ? 10 : intElement(Number(value));
    }
  }
  const length = Buffer.byteLength(text);
  const encoded = length + (length < 64 ? 1 : length < 4096 ? 2 : 5);
  return encoded + backlen(encoded);
}

function sameFields(names: readonly string[], master: readonly string[]): boolean {
  if (names.length !== master.length) return false;
  for (let i = 0; i < names.length; i++) if (names[i] !== master[i]) return false;
  return true;
}

/**
 * The listpack nodes of one stream, in id order, as Redis 7 lays them out.
 *
 * @example
 * const nodes = new StreamNodes(REDIS_NODE_LIMITS)
 * nodes.append(entry, entry.fields)
 * const keepFrom = nodes.trim(length, 1000)   // drop entries before this id, if any
 */
export class StreamNodes {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #nodes: StreamNode[] = [];

  constructor(limits: StreamNodeLimits) {
    this.#maxEntries = limits.maxEntries;
    this.#maxBytes =
      limits.maxBytes === 0 || limits.maxBytes > LISTPACK_MAX_BYTES ? LISTPACK_MAX_BYTES : limits.maxBytes;
  }

  /** Place a new entry (the last id of the stream): in the tail node, or in a new one (streamAppendItem). */
  append(id: StreamId, fields: StreamFields): void {
    const names = Object.keys(fields);
    let fieldBytes = 0;
    // `?? ''` only for the type: every name comes from Object.keys and `add` checked each value is a string.
    for (const name of names) fieldBytes += Buffer.byteLength(name) + Buffer.byteLength(fields[name] ?? '');
    let node = this.#nodes.at(-1);
    if (node !== undefined) {
      const full =
        this.#bytesOf(node) + fieldBytes >= this.#maxBytes ||
        (this.#maxEntries > 0 && node.size >= this.#maxEntries);
      if (full) node = undefined;
    }
    if (node === undefined) {
      // The master entry: count, deleted, the field names, a zero terminator.
      let bytes = LISTPACK_OVERHEAD + intElement(names.length) + intElement(0);
      for (const name of names) bytes += stringElement(name);
      node = { master: id, masterFields: names, last: id, size: 0, live: 0, bytes };
      this.#nodes.push(node);
    }
    const same = sameFields(names, node.masterFields);
    let bytes =
      intElement(same ? SAMEFIELDS : 0) +
      intElement(id.ms - node.master.ms) +
      intElement(id.seq - node.master.seq);
    if (!same) bytes += intElement(names.length);
    for (const name of names) {
      if (!same) bytes += stringElement(name);
      bytes += stringElement(fields[name] ?? '');
    }
    bytes += intElement(names.length + 3 + (same ? 0 : names.length + 1));
    node.bytes += bytes;
    node.size++;
    node.live++;
    node.last = id;
  }

  /** An entry was deleted (XDEL): Redis frees its node when that was the node's last live entry. */
  remove(id: StreamId): void {
    const index = this.#nodeIndexOf(id);
    const node = this.#nodes[index];
    if (node === undefined) return;
    node.live--;
    if (node.live === 0) this.#nodes.splice(index, 1);
  }

  /**
   * `MAXLEN ~ maxLen` on a stream of `length` live entries (streamTrim with approx, no LIMIT): drop
   * whole nodes from the head while what remains is still at least `maxLen`, at most
   * `100 × maxEntries` entries per call. Resolves the first id of the first node kept (every entry
   * before it goes), or `undefined` when nothing is dropped.
   */
  trim(length: number, maxLen: number): StreamId | undefined {
    const limit = 100 * this.#maxEntries;
    let remaining = length;
    let removed = 0;
    let drop = 0;
    for (const node of this.#nodes) {
      if (remaining <= maxLen) break;
      if (limit > 0 && removed + node.live > limit) break;
      if (remaining - node.live < maxLen) break;
      remaining -= node.live;
      removed += node.live;
      drop++;
    }
    if (drop === 0) return undefined;
    this.#nodes = this.#nodes.slice(drop);
    return this.#nodes[0]?.master;
  }

  /**
   * `XTRIM MINID minId` (exact), after the stream removed the live entries `removed` (all before
   * `minId`): Redis frees the nodes whose last entry, deleted or not, is before `minId`, and marks the
   * removed entries of the first node kept deleted inside it (that node stays, even if emptied).
   */
  trimBefore(minId: StreamId, removed: readonly StreamId[]): void {
    let drop = 0;
    for (const node of this.#nodes) {
      if (compareStreamIds(node.last, minId) >= 0) break;
      drop++;
    }
    if (drop > 0) this.#nodes = this.#nodes.slice(drop);
    const first = this.#nodes[0];
    if (first === undefined) return;
    for (const id of removed) if (compareStreamIds(id, first.master) >= 0) first.live--;
  }

  #bytesOf(node: StreamNode): number {
    return node.bytes + intElement(node.live) + intElement(node.size - node.live);
  }

  /** Index of the node holding `id`: the last one whose master id is not after it. */
  #nodeIndexOf(id: StreamId): number {
    let low = 0;
    let high = this.#nodes.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const node = this.#nodes[middle];
      // Past the end counts as after `id` (middle <= high < length, so it never is).
      if (node !== undefined && compareStreamIds(node.master, id) <= 0) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
}
