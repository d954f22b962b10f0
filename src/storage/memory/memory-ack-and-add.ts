import { assertAckAndAdd } from '../entry-writes.js';
import type { EntryWrite } from '../stream-storage.js';
import type { MemoryKeyspace } from './memory-keyspace.js';
import { canonicalId } from './memory-stream-id.js';

/**
 * `ackAndAdd` of the in-memory twin: XACK, and only when it acked the entry, the XADDs. Nothing awaits
 * in between, so no other call sees the ack without the entries (Redis runs it as one script).
 */
export function ackAndAdd(
  keys: MemoryKeyspace,
  stream: string,
  group: string,
  id: string,
  entries: readonly EntryWrite[],
): boolean {
  assertAckAndAdd(stream, group, id, entries);
  if (keys.group(stream, group).found.ack([canonicalId('XACK', id)]) === 0) return false;
  for (const entry of entries) keys.add(entry.stream, entry.fields, entry.maxLen);
  return true;
}
