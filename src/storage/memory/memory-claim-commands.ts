import type { AutoClaimOptions, ClaimResult } from '../stream-storage.js';
import { assertCount, assertId, assertIds, assertName, assertOptions } from '../validate.js';
import type { MemoryKeyspace } from './memory-keyspace.js';
import { toClaimResult } from './memory-keyspace.js';
import { parseId } from './memory-stream-id.js';

// MemoryStreamStorage's ownership commands: XAUTOCLAIM, XCLAIM, XCLAIM … JUSTID. Arguments are
// checked in the order RedisStreamStorage checks them (the differential test compares the errors).

function assertClaimArgs(stream: string, group: string, consumer: string): void {
  assertName('stream', stream);
  assertName('group', group);
  assertName('consumer', consumer);
}

/** XAUTOCLAIM: one page of a walk over the PEL, with delivery counts and deleted ids. */
export function autoClaim(
  keys: MemoryKeyspace,
  stream: string,
  group: string,
  consumer: string,
  options: AutoClaimOptions,
): ClaimResult {
  assertClaimArgs(stream, group, consumer);
  assertOptions(options);
  assertCount('minIdleMs', options.minIdleMs, 0);
  assertCount('count', options.count);
  const cursorText = options.cursor ?? '0-0';
  assertId('cursor', cursorText);
  const cursor = parseId('XAUTOCLAIM', cursorText);
  const { target, found } = keys.group(stream, group);
  return toClaimResult(
    found.autoClaim(target, consumer, options.minIdleMs, cursor, options.count, keys.now()),
  );
}

/** XCLAIM of the given ids. */
export function claim(
  keys: MemoryKeyspace,
  stream: string,
  group: string,
  consumer: string,
  ids: readonly string[],
  options: { minIdleMs: number },
): ClaimResult {
  assertClaimArgs(stream, group, consumer);
  assertIds('ids', ids);
  assertOptions(options);
  assertCount('minIdleMs', options.minIdleMs, 0);
  if (ids.length === 0) return { cursor: '0-0', entries: [], deletedIds: [] };
  const parsed = ids.map((id) => parseId('XCLAIM', id));
  const { target, found } = keys.group(stream, group);
  return toClaimResult(found.claim(target, consumer, parsed, options.minIdleMs, false, keys.now()));
}

/** XCLAIM … JUSTID with min idle 0: resets idle times; resolves the ids still pending. */
export function touch(
  keys: MemoryKeyspace,
  stream: string,
  group: string,
  consumer: string,
  ids: readonly string[],
): string[] {
  assertClaimArgs(stream, group, consumer);
  assertIds('ids', ids);
  if (ids.length === 0) return [];
  const parsed = ids.map((id) => parseId('XCLAIM', id));
  const { target, found } = keys.group(stream, group);
  return found.claim(target, consumer, parsed, 0, true, keys.now()).claimed.map(({ entry }) => entry.id);
}
