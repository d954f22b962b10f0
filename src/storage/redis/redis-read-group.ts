import type { Logger } from 'pino';
import { ConnectionError } from '../../errors/connection-error.js';
import type { ReadGroupOptions, StreamEntry } from '../stream-storage.js';
import { assertCount, assertName, assertOptions } from '../validate.js';
import type { BlockingReads } from './redis-blocking-reads.js';
import { type CommandContext, failure } from './redis-commands.js';
import { anyReplacement, markMalformed } from './redis-exact-entries.js';
import { parseReadGroup } from './redis-replies.js';

/**
 * `XREADGROUP GROUP group consumer COUNT count [BLOCK blockMs] STREAMS stream >`: without `blockMs` on
 * the shared connection, with it on the consumer's own blocking-read connection (see BlockingReads).
 * Connection failures are logged at `warn` before they are raised.
 */
export async function readGroup(
  ctx: CommandContext,
  reads: BlockingReads,
  logger: Pick<Logger, 'warn'> | undefined,
  stream: string,
  group: string,
  consumer: string,
  options: ReadGroupOptions,
): Promise<StreamEntry[]> {
  assertName('stream', stream);
  assertName('group', group);
  assertName('consumer', consumer);
  assertOptions(options);
  assertCount('count', options.count);
  const blockMs = options.blockMs;
  if (blockMs !== undefined) assertCount('blockMs', blockMs);
  try {
    let entries: StreamEntry[];
    if (blockMs === undefined) {
      const args = ['GROUP', group, consumer, 'COUNT', options.count, 'STREAMS', stream, '>'];
      entries = parseReadGroup(await ctx.send('XREADGROUP', ...args));
    } else {
      const args = [
        'GROUP',
        group,
        consumer,
        'COUNT',
        options.count,
        'BLOCK',
        blockMs,
        'STREAMS',
        stream,
        '>',
      ];
      // One reader connection per stream and consumer name: partitions of one consumer share its
      // name, and one connection serves one blocking read at a time.
      entries = parseReadGroup(await reads.read(`${stream}/${consumer}`, blockMs, args));
    }
    // Rare: an entry read with U+FFFD is read again as bytes (redis-exact-entries.ts).
    return anyReplacement(entries) ? await markMalformed(ctx, stream, entries) : entries;
  } catch (error) {
    const mapped = failure(ctx, error, 'XREADGROUP', stream, group);
    if (mapped instanceof ConnectionError) {
      logger?.warn({ stream, group, consumer, code: mapped.code, error: mapped.message }, 'read failed');
    }
    throw mapped;
  }
}
