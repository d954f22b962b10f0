import { NoGroupError } from '../../errors/no-group-error.js';
import type {
  ConsumerInfo,
  DeleteIdleConsumersOptions,
  GroupInfo,
  PendingEntry,
  PendingOptions,
} from '../stream-storage.js';
import {
  assertCount,
  assertIds,
  assertName,
  assertOptions,
  assertPendingOptions,
  assertStartId,
} from '../validate.js';
import { assertGroupExists, type CommandContext, failure } from './redis-commands.js';
import { isMissingKeyReply, isReplyError } from './redis-errors.js';
import { parseConsumers, parseGroups, parseIds, parsePending } from './redis-replies.js';
import { deleteIdleConsumersScript } from './redis-scripts.js';

// Consumer-group commands: XGROUP, XINFO, XACK, XPENDING. Integer replies go through Number():
// a client created with `stringNumbers` hands them over as strings.

/**
 * `XGROUP CREATE … MKSTREAM`, unless XINFO GROUPS lists the group already; false when it existed
 * (also on BUSYGROUP). The check is a read: a write to create a group that exists would be refused
 * by a Redis out of memory (`-OOM` with `maxmemory` and `noeviction`) although nothing needs writing.
 */
export async function ensureGroup(
  ctx: CommandContext,
  stream: string,
  group: string,
  startId: string,
): Promise<boolean> {
  assertName('stream', stream);
  assertName('group', group);
  assertStartId(startId);
  if (await groupExists(ctx, stream, group)) return false;
  try {
    await ctx.send('XGROUP', 'CREATE', stream, group, startId, 'MKSTREAM');
    return true;
  } catch (error) {
    if (isReplyError(error) && error.message.startsWith('BUSYGROUP')) return false;
    throw failure(ctx, error, 'XGROUP CREATE', stream, group);
  }
}

/**
 * Whether XINFO GROUPS lists `group`. Any refusal (no such key, an ACL without `xinfo|groups`,
 * WRONGTYPE) answers false: XGROUP CREATE then decides, as it did before this check.
 */
async function groupExists(ctx: CommandContext, stream: string, group: string): Promise<boolean> {
  try {
    return parseGroups(await ctx.send('XINFO', 'GROUPS', stream)).some((info) => info.name === group);
  } catch (error) {
    if (isReplyError(error)) return false;
    throw failure(ctx, error, 'XINFO GROUPS', stream, group);
  }
}

/** `XACK`. It answers 0 for a missing group instead of NOGROUP, so a short count triggers a check. */
export async function ack(
  ctx: CommandContext,
  stream: string,
  group: string,
  ids: readonly string[],
): Promise<number> {
  assertName('stream', stream);
  assertName('group', group);
  assertIds('ids', ids);
  if (ids.length === 0) return 0;
  let acked: number;
  try {
    acked = Number(await ctx.send('XACK', stream, group, ...ids));
  } catch (error) {
    throw failure(ctx, error, 'XACK', stream, group);
  }
  if (acked < ids.length) await assertGroupExists(ctx, stream, group);
  return acked;
}

/** `XPENDING stream group [IDLE minIdleMs] start end count [consumer]`. */
export async function pending(
  ctx: CommandContext,
  stream: string,
  group: string,
  options: PendingOptions,
): Promise<PendingEntry[]> {
  const { start, end, minIdleMs } = assertPendingOptions(stream, group, options);
  const args: (string | number)[] = [stream, group];
  if (minIdleMs > 0) args.push('IDLE', minIdleMs);
  args.push(start, end, options.count);
  if (options.consumer !== undefined) args.push(options.consumer);
  try {
    return parsePending(await ctx.send('XPENDING', ...args));
  } catch (error) {
    throw failure(ctx, error, 'XPENDING', stream, group);
  }
}

/** `XINFO GROUPS`; a missing stream resolves []. */
export async function groups(ctx: CommandContext, stream: string): Promise<GroupInfo[]> {
  assertName('stream', stream);
  try {
    return parseGroups(await ctx.send('XINFO', 'GROUPS', stream));
  } catch (error) {
    if (isReplyError(error) && isMissingKeyReply(error.message)) return [];
    throw failure(ctx, error, 'XINFO GROUPS', stream, undefined);
  }
}

/** `XINFO CONSUMERS`; a missing stream or group raises NoGroupError. */
export async function consumers(ctx: CommandContext, stream: string, group: string): Promise<ConsumerInfo[]> {
  assertName('stream', stream);
  assertName('group', group);
  try {
    return parseConsumers(await ctx.send('XINFO', 'CONSUMERS', stream, group));
  } catch (error) {
    if (isReplyError(error) && isMissingKeyReply(error.message))
      throw new NoGroupError(stream, group, { cause: error });
    throw failure(ctx, error, 'XINFO CONSUMERS', stream, group);
  }
}

/** `XGROUP DELCONSUMER`; resolves the consumer's pending count. */
export async function deleteConsumer(
  ctx: CommandContext,
  stream: string,
  group: string,
  consumer: string,
): Promise<number> {
  assertName('stream', stream);
  assertName('group', group);
  assertName('consumer', consumer);
  try {
    return Number(await ctx.send('XGROUP', 'DELCONSUMER', stream, group, consumer));
  } catch (error) {
    if (isReplyError(error) && isMissingKeyReply(error.message))
      throw new NoGroupError(stream, group, { cause: error });
    throw failure(ctx, error, 'XGROUP DELCONSUMER', stream, group);
  }
}

/** XINFO CONSUMERS + XGROUP DELCONSUMER of the idle ones with nothing pending, atomically (a script). */
export async function deleteIdleConsumers(
  ctx: CommandContext,
  stream: string,
  group: string,
  options: DeleteIdleConsumersOptions,
): Promise<string[]> {
  assertName('stream', stream);
  assertName('group', group);
  assertOptions(options);
  assertCount('minIdleMs', options.minIdleMs, 0);
  if (options.keep !== undefined) assertName('keep', options.keep);
  try {
    const args = [group, options.minIdleMs, options.keep ?? ''];
    return parseIds(await deleteIdleConsumersScript.run(ctx.send, stream, args));
  } catch (error) {
    if (isReplyError(error) && isMissingKeyReply(error.message))
      throw new NoGroupError(stream, group, { cause: error });
    throw failure(ctx, error, 'XINFO CONSUMERS', stream, group);
  }
}

/** `XGROUP DESTROY`; false when there was no such group (or stream). */
export async function destroyGroup(ctx: CommandContext, stream: string, group: string): Promise<boolean> {
  assertName('stream', stream);
  assertName('group', group);
  try {
    return Number(await ctx.send('XGROUP', 'DESTROY', stream, group)) === 1;
  } catch (error) {
    if (isReplyError(error) && isMissingKeyReply(error.message)) return false;
    throw failure(ctx, error, 'XGROUP DESTROY', stream, group);
  }
}
