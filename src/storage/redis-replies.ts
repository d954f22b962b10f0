import type {
  ClaimResult,
  ConsumerInfo,
  GroupInfo,
  PendingEntry,
  RangeEntry,
  StreamEntry,
  StreamFields,
} from './stream-storage.js';

// Parsers for RESP2 replies as ioredis hands them over (arrays, strings, numbers, null).
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

/** `[f1, v1, f2, v2, …]` → `{ f1: v1, … }`. */
export function parseFields(reply: Reply): StreamFields {
  const flat = asArray(reply);
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

/** XREADGROUP on one stream with `>`: `[[stream, [[id, [f, v, …]], …]]]` or `null`; every entry is a first delivery. */
export function parseReadGroup(reply: Reply): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  const streams = asArray(reply);
  const first = asArray(streams[0]);
  const list = asArray(first[1]);
  const entries: StreamEntry[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = asArray(list[i]);
    // A null body would be an entry deleted while pending; `>` never returns those, but stay safe.
    if (entry[1] === null || entry[1] === undefined) continue;
    entries.push({ id: str(entry[0]), fields: parseFields(entry[1]), deliveries: 1 });
  }
  return entries;
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
  const list = asArray(parts[1]);
  const deliveries = asArray(parts[2]);
  const entries: StreamEntry[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = asArray(list[i]);
    if (entry[1] === null || entry[1] === undefined) continue;
    entries.push({ id: str(entry[0]), fields: parseFields(entry[1]), deliveries: num(deliveries[i]) });
  }
  const deletedList = asArray(parts[3]);
  const deletedIds: string[] = new Array(deletedList.length);
  for (let i = 0; i < deletedList.length; i++) deletedIds[i] = str(deletedList[i]);
  return { cursor: str(parts[0]), entries, deletedIds };
}

/** XINFO GROUPS: one flat `[key, value, …]` array per group. */
export function parseGroups(reply: Reply): GroupInfo[] {
  const list = asArray(reply);
  const groups: GroupInfo[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const flat = asArray(list[i]);
    let name = '';
    let consumers = 0;
    let pending = 0;
    let lastDeliveredId = '0-0';
    let entriesRead: number | null = null;
    let lag: number | null = null;
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const value = flat[j + 1];
      switch (flat[j]) {
        case 'name':
          name = str(value);
          break;
        case 'consumers':
          consumers = num(value);
          break;
        case 'pending':
          pending = num(value);
          break;
        case 'last-delivered-id':
          lastDeliveredId = str(value);
          break;
        case 'entries-read':
          entriesRead = numOrNull(value);
          break;
        case 'lag':
          lag = numOrNull(value);
          break;
      }
    }
    groups[i] = { name, consumers, pending, lastDeliveredId, entriesRead, lag };
  }
  return groups;
}

/** XINFO CONSUMERS: one flat `[key, value, …]` array per consumer (`inactive` exists from Redis 7.2). */
export function parseConsumers(reply: Reply): ConsumerInfo[] {
  const list = asArray(reply);
  const consumers: ConsumerInfo[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const flat = asArray(list[i]);
    let name = '';
    let pending = 0;
    let idleMs = 0;
    let inactiveMs: number | null = null;
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const value = flat[j + 1];
      switch (flat[j]) {
        case 'name':
          name = str(value);
          break;
        case 'pending':
          pending = num(value);
          break;
        case 'idle':
          idleMs = num(value);
          break;
        case 'inactive':
          // Redis 7.2 reports -1 for a consumer that never had a successful interaction.
          inactiveMs = value === null || num(value) < 0 ? null : num(value);
          break;
      }
    }
    consumers[i] = { name, pending, idleMs, inactiveMs };
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
