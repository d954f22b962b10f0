import type { PreviewEntry, RangePreviewOptions } from './preview-entry.js';
import type { RangeEntry, StreamFields } from './stream-storage.js';
import { assertCount, assertName, assertOptions, assertRangeBound, describe } from './validate.js';

/** The default of `RangePreviewOptions.maxFields`. */
export const PREVIEW_MAX_FIELDS = 32;

/**
 * Check `rangePreview`'s arguments the same way in both storages: a TypeError that names the argument.
 *
 * @example
 * assertRangePreview('orders:dead', { maxValueBytes: 1024 })
 */
export function assertRangePreview(
  stream: unknown,
  options: unknown,
): asserts options is RangePreviewOptions {
  assertName('stream', stream);
  assertOptions(options);
  const { start, end, count, maxValueBytes, maxFields, keep } = options as Record<string, unknown>;
  if (start !== undefined) assertRangeBound('start', start);
  if (end !== undefined) assertRangeBound('end', end);
  if (count !== undefined) assertCount('count', count);
  assertCount('maxValueBytes', maxValueBytes);
  if (maxFields !== undefined) assertCount('maxFields', maxFields, 0);
  if (keep !== undefined && (!Array.isArray(keep) || keep.some((name) => typeof name !== 'string'))) {
    throw new TypeError(`Expected \`keep\` to be an array of field names, got ${describe(keep)}`);
  }
}

/**
 * `value` cut to at most `maxBytes` UTF-8 bytes at a character boundary (never half a character).
 *
 * @example
 * cutUtf8('héllo', 2) // 'h' (é is two bytes)
 */
function cutUtf8(value: string, maxBytes: number): string {
  // At most maxBytes characters hold at least maxBytes bytes: encode only that head, not the value.
  const head = Buffer.from(value.slice(0, maxBytes), 'utf8');
  if (head.length <= maxBytes) return value.slice(0, maxBytes);
  let end = maxBytes;
  // 10xxxxxx is a continuation byte: step back to the first byte of the character it belongs to.
  while (end > 0 && ((head[end] ?? 0) & 0xc0) === 0x80) end--;
  return head.subarray(0, end).toString('utf8');
}

/**
 * The preview of a whole entry, as `rangePreview` returns it: for storages that hold entries in
 * process (`MemoryStreamStorage`) and for callers of a storage without `rangePreview`.
 *
 * @example
 * previewEntry({ id: '1-0', fields: { payload: 'x'.repeat(5000) } }, { maxValueBytes: 1024 })
 * // { id: '1-0', bytes: 5007, fields: { payload: 'xxx…' (1024) }, truncated: { payload: 5000 }, omittedFields: 0 }
 */
export function previewEntry(entry: RangeEntry, options: RangePreviewOptions): PreviewEntry {
  const keep = new Set(options.keep ?? []);
  let room = options.maxFields ?? PREVIEW_MAX_FIELDS;
  let bytes = 0;
  let omittedFields = 0;
  const fields: StreamFields = {};
  const truncated: Record<string, number> = {};
  for (const [name, value] of Object.entries(entry.fields)) {
    const nameBytes = Buffer.byteLength(name, 'utf8');
    const valueBytes = Buffer.byteLength(value, 'utf8');
    bytes += nameBytes + valueBytes;
    const kept = keep.has(name);
    if (!kept && (room === 0 || nameBytes > options.maxValueBytes)) {
      omittedFields++;
      continue;
    }
    if (!kept) room--;
    if (valueBytes > options.maxValueBytes) {
      defineField(fields, name, cutUtf8(value, options.maxValueBytes));
      defineField(truncated, name, valueBytes);
    } else defineField(fields, name, value);
  }
  return { id: entry.id, bytes, fields, truncated, omittedFields };
}

/** Set `target[name]`, also for a field literally named `__proto__` (a field, not the prototype). */
export function defineField<T>(target: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}
