import type {
  ClaimResult,
  ConsumerInfo,
  GroupInfo,
  PendingEntry,
  RangeEntry,
  StreamEntry,
  StreamFields,
} from '../stream-storage.js';

// Parsers for replies as ioredis 5 and 6 hand them over, whatever the client's options: RESP2
// (arrays, strings, numbers, null) and RESP3, whose maps (XREADGROUP's streams, XINFO's records) come
// as flat `[key, value, …]` arrays with `replyMapping: 'legacy'` (ioredis 6's default) and as plain
// objects with `replyMapping: 'resp3'`; numbers may be strings (`stringNumbers`). Accepting every
// shape is what lets the application pass its own client as it is (see redis-client.ts).
// Plain indexed loops on purpose: these run for every entry read, so no map/reduce closures.

type Reply = unknown;

function asArray(reply: Reply): readonly Reply[] {
  return Array.isArray(reply) ? reply : [];
}

function str(reply: Reply): string {
  return typeof reply === 'string' ? reply : String(reply);
}

function num(reply: Reply): number {
  return typeof reply === 'number' ? reply : Number(reply);
}

function numOrNull(reply: Reply): number | null {
  return reply === null || reply === undefined ? null : num(reply);
}

/** A RESP3 map decoded as an object (`replyMapping: 'resp3'`), not an array, string or number. */
function isMapObject(reply: Reply): reply is Readonly<Record<string, Reply>> {
  return typeof reply === 'object' && reply !== null && !Array.isArray(reply);
}

/** `[f1, v1, f2, v2, …]` (or the same as an object) → `{ f1: v1, … }`. */
function parseFields(reply: Reply): StreamFields {
  const flat = isMapObject(reply) ? Object.entries(reply).flat() : asArray(reply);
  const fields: StreamFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const key = str(flat[i]);
    // A field literally named "__proto__" must become a field, not the object's prototype.
    if (key === '__proto__') {
      Object.defineProperty(fields, key, {
        value: str(flat[i + 1]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      fields[key] = str(flat[i + 1]);
    }
  }
  return fields;
}

/** XRANGE: `[[id, [f, v, …]], …]`. */
export function parseRangeEntries(reply: Reply): RangeEntry[] {
  const list = asArray(reply);
  const entries: RangeEntry[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const entry = asArray(list[i]);
    entries[i] = { id: str(entry[0]), fields: parseFields(entry[1]) };
  }
  return entries;
}

/**
 * `[[id, [f, v, …]], …]` → stream entries, skipping entries whose body is null (deleted while pending).
 * `deliveries` is the delivery count of each row by position; `null` means every entry is a first delivery.
 */
function parseEntryList(reply: Reply, deliveries: readonly Reply[] | null): StreamEntry[] {
  const list = asArray(reply);
  const entries: StreamEntry[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = asArray(list[i]);
    if (entry[1] === null || entry[1] === undefined) continue;
    entries.push({
      id: str(entry[0]),
      fields: parseFields(entry[1]),
      deliveries: deliveries === null ? 1 : num(deliveries[i]),
    });
  }
  return entries;
}

/**
 * The entries of the single stream of an XREADGROUP reply: RESP2 `[[stream, entries]]`, a RESP3 map
 * flattened `[stream, entries]`, or `{ stream: entries }`.
 */
function entriesOfOnlyStream(reply: Reply): Reply {
  if (isMapObject(reply)) {
    for (const stream in reply) return reply[stream];
    return undefined;
  }
  const list = asArray(reply);
  const first = list[0];
  return Array.isArray(first) ? first[1] : list[1];
}

/** XREADGROUP on one stream with `>` (see entriesOfOnlyStream) or `null`; every entry is a first delivery. */
export function parseReadGroup(reply: Reply): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  // A null body would be an entry deleted while pending; `>` never returns those, but stay safe.
  return parseEntryList(entriesOfOnlyStream(reply), null);
}

/** XPENDING extended form: `[[id, consumer, idleMs, deliveries], …]`. */
export function parsePending(reply: Reply): PendingEntry[] {
  const list = asArray(reply);
  const pending: PendingEntry[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const row = asArray(list[i]);
    pending[i] = { id: str(row[0]), consumer: str(row[1]), idleMs: num(row[2]), deliveries: num(row[3]) };
  }
  return pending;
}

/**
 * Reply of the claim scripts (see redis-scripts.ts): `[cursor, [[id, [f, v, …]], …], [deliveries…], [deletedId…]]`.
 */
export function parseClaimScript(reply: Reply): ClaimResult {
  const parts = asArray(reply);
  return {
    cursor: str(parts[0]),
    entries: parseEntryList(parts[1], asArray(parts[2])),
    deletedIds: parseIds(parts[3]),
  };
}

/** The value of `key` in a map reply (flat `[key, value, …]` or an object); `undefined` when absent. */
function flatValue(record: Reply, key: string): Reply {
  if (isMapObject(record)) return Object.hasOwn(record, key) ? record[key] : undefined;
  const flat = asArray(record);
  for (let j = 0; j + 1 < flat.length; j += 2) {
    if (flat[j] === key) return flat[j + 1];
  }
  return undefined;
}

function strValue(flat: Reply, key: string, fallback: string): string {
  const value = flatValue(flat, key);
  return value === undefined ? fallback : str(value);
}

function numValue(flat: Reply, key: string, fallback: number): number {
  const value = flatValue(flat, key);
  return value === undefined ? fallback : num(value);
}

/** XINFO GROUPS: one map (flat `[key, value, …]` or an object) per group. */
export function parseGroups(reply: Reply): GroupInfo[] {
  const list = asArray(reply);
  const groups: GroupInfo[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const flat = list[i];
    groups[i] = {
      name: strValue(flat, 'name', ''),
      consumers: numValue(flat, 'consumers', 0),
      pending: numValue(flat, 'pending', 0),
      lastDeliveredId: strValue(flat, 'last-delivered-id', '0-0'),
      entriesRead: numOrNull(flatValue(flat, 'entries-read')),
      lag: numOrNull(flatValue(flat, 'lag')),
    };
  }
  return groups;
}

/** XINFO CONSUMERS: one map per consumer (`inactive` exists from Redis 7.2). */
export function parseConsumers(reply: Reply): ConsumerInfo[] {
  const list = asArray(reply);
  const consumers: ConsumerInfo[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const flat = list[i];
    // Redis 7.2 reports -1 for a consumer that never had a successful interaction; before 7.2 it is absent.
    const inactive = numOrNull(flatValue(flat, 'inactive'));
    consumers[i] = {
      name: strValue(flat, 'name', ''),
      pending: numValue(flat, 'pending', 0),
      idleMs: numValue(flat, 'idle', 0),
      inactiveMs: inactive === null || inactive < 0 ? null : inactive,
    };
  }
  return consumers;
}

/** A reply that must be a list of strings (XCLAIM … JUSTID). */
export function parseIds(reply: Reply): string[] {
  const list = asArray(reply);
  const ids: string[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) ids[i] = str(list[i]);
  return ids;
}
