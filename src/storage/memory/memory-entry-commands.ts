import type { PreviewEntry, RangePreviewOptions } from '../preview-entry.js';
import { assertRangePreview, previewEntry } from '../range-preview.js';
import type { DeadLetterWrite, RangeEntry, RangeOptions, StreamFields } from '../stream-storage.js';
import {
  assertCount,
  assertFields,
  assertId,
  assertIds,
  assertName,
  assertOptions,
  assertRangeBound,
} from '../validate.js';
import type { MemoryKeyspace } from './memory-keyspace.js';
import { canonicalId, parseBound, parseId } from './memory-stream-id.js';

// MemoryStreamStorage's entry commands: XADD (and the dead letter's XADD + XACK), XRANGE and its
// preview, XDEL. Arguments are checked in the order RedisStreamStorage checks them.

/** XADD of checked fields; `maxLen` is checked here (`MAXLEN ~`). Returns the new id. */
export function addEntry(
  keys: MemoryKeyspace,
  stream: string,
  fields: StreamFields,
  maxLen: number | undefined,
): string {
  if (maxLen !== undefined) assertCount('maxLen', maxLen);
  return keys.add(stream, fields, maxLen);
}

/** XRANGE; a missing stream has no entries. */
export function range(keys: MemoryKeyspace, stream: string, options: RangeOptions): RangeEntry[] {
  assertName('stream', stream);
  assertOptions(options);
  const startText = options.start ?? '-';
  const endText = options.end ?? '+';
  assertRangeBound('start', startText);
  assertRangeBound('end', endText);
  if (options.count !== undefined) assertCount('count', options.count);
  const start = parseBound('XRANGE', startText, 'start');
  const end = parseBound('XRANGE', endText, 'end');
  const target = keys.stream(stream);
  if (target === undefined) return [];
  return target
    .range(start, end, options.count ?? 0)
    .map((entry) => ({ id: entry.id, fields: { ...entry.fields } }));
}

/** XRANGE with every entry cut to a preview (range-preview.ts). */
export function rangePreview(
  keys: MemoryKeyspace,
  stream: string,
  options: RangePreviewOptions,
): PreviewEntry[] {
  assertRangePreview(stream, options);
  const start = parseBound('XRANGE', options.start ?? '-', 'start');
  const end = parseBound('XRANGE', options.end ?? '+', 'end');
  const entries = keys.stream(stream)?.range(start, end, options.count ?? 0) ?? [];
  return entries.map((entry) => previewEntry(entry, options));
}

/** XDEL: how many were deleted. */
export function deleteEntries(keys: MemoryKeyspace, stream: string, ids: readonly string[]): number {
  assertName('stream', stream);
  assertIds('ids', ids);
  const target = keys.stream(stream);
  if (target === undefined || ids.length === 0) return 0;
  let deleted = 0;
  // Parse every id first: like XDEL, a bad id deletes nothing.
  for (const id of ids.map((text) => parseId('XDEL', text))) if (target.delete(id)) deleted++;
  return deleted;
}

/** XADD of the dead letter, then XACK of the source: returns the dead letter's id. */
export function deadLetter(keys: MemoryKeyspace, letter: DeadLetterWrite): string {
  assertOptions(letter, 'letter');
  assertName('deadStream', letter.deadStream);
  assertName('sourceStream', letter.sourceStream);
  assertName('group', letter.group);
  assertId('id', letter.id);
  assertFields(letter.fields);
  // Written first, like the Redis storage: a missing source group raises only after the dead letter exists.
  const id = addEntry(keys, letter.deadStream, letter.fields, letter.maxLen);
  keys.group(letter.sourceStream, letter.group).found.ack([canonicalId('XACK', letter.id)]);
  return id;
}
