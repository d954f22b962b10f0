import type { MemoryStream } from './memory-stream.js';
import { compareStreamIds, type StreamId, ZERO_ID } from './memory-stream-id.js';

/** The smallest id after `id` (what the Redis script computes on decimal strings). */
function after(id: StreamId): StreamId {
  // Past 2^53 a JS number cannot count on by one: take the next millisecond (still after `id`).
  if (id.seq >= Number.MAX_SAFE_INTEGER) return { ms: id.ms + 1, seq: 0, id: `${id.ms + 1}-0` };
  return { ms: id.ms, seq: id.seq + 1, id: `${id.ms}-${id.seq + 1}` };
}

const lower = (a: StreamId, b: StreamId): StreamId => (compareStreamIds(a, b) <= 0 ? a : b);

/**
 * `trimAcked` on an in-memory stream, with the Redis storage's rules (redis-trim-commands.ts): the
 * MINID is the lowest, over all groups, of the oldest pending id and the id after the last delivered
 * one, and `keepBeforeMs-0` when given; then `XTRIM MINID` exactly. A stream without groups keeps
 * everything. Resolves how many entries were removed.
 *
 * @example
 * trimAckedEntries(stream, clock.now() - 60_000)   // 42
 */
export function trimAckedEntries(target: MemoryStream | undefined, keepBeforeMs: number | undefined): number {
  if (target === undefined || target.groups.size === 0) return 0;
  let minId: StreamId | null = null;
  for (const group of target.groups.values()) {
    let bound = after(group.lastId);
    group.pel.scan({ at: ZERO_ID, exclusive: false }, (item) => {
      bound = lower(bound, item);
      return false;
    });
    minId = minId === null ? bound : lower(minId, bound);
  }
  if (minId === null) return 0;
  if (keepBeforeMs !== undefined) {
    const keep = Math.max(0, keepBeforeMs);
    minId = lower(minId, { ms: keep, seq: 0, id: `${keep}-0` });
  }
  return target.trimBefore(minId);
}
