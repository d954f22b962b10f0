import type { EntryWrite } from './stream-storage.js';
import { assertCount, assertFields, assertId, assertName, describe } from './validate.js';

/**
 * Checks the arguments of `ackAndAdd` (both storages, same words), so a bad entry is refused with a
 * `TypeError` before anything is acked: the ack and the writes happen together or not at all.
 *
 * @example
 * assertAckAndAdd('orders', 'billing', '1-0', [{ stream: 'invoices', fields: { type: 'invoice.due' } }])
 */
export function assertAckAndAdd(stream: unknown, group: unknown, id: unknown, entries: unknown): void {
  assertName('stream', stream);
  assertName('group', group);
  assertId('id', id);
  if (!Array.isArray(entries)) {
    throw new TypeError(
      `Expected \`entries\` to be an array of { stream, fields, maxLen? }, got ${describe(entries)}`,
    );
  }
  for (const entry of entries as unknown[]) {
    if (typeof entry !== 'object' || entry === null) {
      throw new TypeError(`Expected \`entries[]\` to be { stream, fields, maxLen? }, got ${describe(entry)}`);
    }
    const { stream: target, fields, maxLen } = entry as Partial<EntryWrite>;
    assertName('entries[].stream', target);
    assertFields(fields);
    if (maxLen !== undefined) assertCount('entries[].maxLen', maxLen);
  }
}
