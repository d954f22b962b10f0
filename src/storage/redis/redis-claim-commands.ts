import type { AutoClaimOptions, ClaimResult, StreamEntry } from '../stream-storage.js';
import { assertCount, assertId, assertIds, assertName, assertOptions } from '../validate.js';
import { type CommandContext, failure } from './redis-commands.js';
import { anyReplacement, markMalformed } from './redis-exact-entries.js';
import { parseClaimScript, parseIds } from './redis-replies.js';
import { autoClaimScript, claimScript } from './redis-scripts.js';

// Ownership commands: XAUTOCLAIM and XCLAIM (through scripts that add delivery counts and deleted
// ids), and XCLAIM … JUSTID to keep in-flight entries from looking idle.

// Lua's unpack() has a stack limit; larger id lists go in several script calls.
const CLAIM_CHUNK = 1000;

function assertClaimArgs(stream: string, group: string, consumer: string): void {
  assertName('stream', stream);
  assertName('group', group);
  assertName('consumer', consumer);
}

/** The claimed entries whose bytes are not UTF-8 marked `malformedEncoding` (redis-exact-entries.ts). */
async function marked(ctx: CommandContext, stream: string, result: ClaimResult): Promise<ClaimResult> {
  if (anyReplacement(result.entries)) await markMalformed(ctx, stream, result.entries);
  return result;
}

/** One page of an XAUTOCLAIM walk, with delivery counts. */
export async function autoClaim(
  ctx: CommandContext,
  stream: string,
  group: string,
  consumer: string,
  options: AutoClaimOptions,
): Promise<ClaimResult> {
  assertClaimArgs(stream, group, consumer);
  assertOptions(options);
  assertCount('minIdleMs', options.minIdleMs, 0);
  assertCount('count', options.count);
  const cursor = options.cursor ?? '0-0';
  assertId('cursor', cursor);
  try {
    const args = [group, consumer, options.minIdleMs, cursor, options.count];
    return marked(ctx, stream, parseClaimScript(await autoClaimScript.run(ctx.send, stream, args)));
  } catch (error) {
    throw failure(ctx, error, 'XAUTOCLAIM', stream, group);
  }
}

/** XCLAIM of the given ids, with delivery counts and the ids dropped because their entries were deleted. */
export async function claim(
  ctx: CommandContext,
  stream: string,
  group: string,
  consumer: string,
  ids: readonly string[],
  options: { minIdleMs: number },
): Promise<ClaimResult> {
  assertClaimArgs(stream, group, consumer);
  assertIds('ids', ids);
  assertOptions(options);
  assertCount('minIdleMs', options.minIdleMs, 0);
  if (ids.length === 0) return { cursor: '0-0', entries: [], deletedIds: [] };
  try {
    if (ids.length <= CLAIM_CHUNK) {
      const args = [group, consumer, options.minIdleMs, ...ids];
      return marked(ctx, stream, parseClaimScript(await claimScript.run(ctx.send, stream, args)));
    }
    const entries: StreamEntry[] = [];
    const deletedIds: string[] = [];
    for (let start = 0; start < ids.length; start += CLAIM_CHUNK) {
      const args = [group, consumer, options.minIdleMs, ...ids.slice(start, start + CLAIM_CHUNK)];
      const part = parseClaimScript(await claimScript.run(ctx.send, stream, args));
      for (const entry of part.entries) entries.push(entry);
      for (const id of part.deletedIds) deletedIds.push(id);
    }
    return marked(ctx, stream, { cursor: '0-0', entries, deletedIds });
  } catch (error) {
    throw failure(ctx, error, 'XCLAIM', stream, group);
  }
}

/** `XCLAIM stream group consumer 0 …ids JUSTID`: resets idle times; resolves the ids still pending. */
export async function touch(
  ctx: CommandContext,
  stream: string,
  group: string,
  consumer: string,
  ids: readonly string[],
): Promise<string[]> {
  assertClaimArgs(stream, group, consumer);
  assertIds('ids', ids);
  if (ids.length === 0) return [];
  try {
    return parseIds(await ctx.send('XCLAIM', stream, group, consumer, 0, ...ids, 'JUSTID'));
  } catch (error) {
    throw failure(ctx, error, 'XCLAIM JUSTID', stream, group);
  }
}
