import type { MemoryStream } from './memory-stream.js';
import { compareStreamIds, type IdBound, type StreamId, ZERO_ID } from './memory-stream-id.js';

/** The lower of two end bounds (at the same id, the exclusive one). */
function lower(a: IdBound, b: IdBound): IdBound {
  const order = compareStreamIds(a.at, b.at);
  if (order !== 0) return order < 0 ? a : b;
  return a.exclusive ? a : b;
}

/**
 * `trimAcked` on an in-memory stream, with the Redis storage's rules: an entry goes only when every
 * group has delivered it (id ≤ its last delivered id) and none has it pending (id < its oldest
 * pending id), and its id time is before `keepBeforeMs` when given. A stream without groups keeps
 * everything. Resolves how many entries were removed (from the head, like `XTRIM MINID`).
 *
 * @example
 * trimAckedEntries(stream, clock.now() - 60_000)   // 42
 */
export function trimAckedEntries(target: MemoryStream | undefined, keepBeforeMs: number | undefined): number {
  if (target === undefined || target.groups.size === 0 || target.length === 0) return 0;
  let end: IdBound | null = null;
  for (const group of target.groups.values()) {
    let bound: IdBound = { at: group.lastId, exclusive: false };
    let oldest: StreamId | undefined;
    group.pel.scan({ at: ZERO_ID, exclusive: false }, (item) => {
      oldest = item;
      return false;
    });
    if (oldest !== undefined) bound = lower(bound, { at: oldest, exclusive: true });
    end = end === null ? bound : lower(end, bound);
  }
  if (end === null) return 0;
  if (keepBeforeMs !== undefined) {
    const keep = Math.max(0, keepBeforeMs);
    end = lower(end, { at: { ms: keep, seq: 0, id: `${keep}-0` }, exclusive: true });
  }
  const removable = target.range({ at: ZERO_ID, exclusive: false }, end, 0).length;
  if (removable > 0) target.trim(target.length - removable);
  return removable;
}
