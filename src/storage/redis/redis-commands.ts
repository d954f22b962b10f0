import { NoGroupError } from '../../errors/no-group-error.js';
import { isNoGroupReply, isReplyError, toStorageError } from './redis-errors.js';
import type { ExactContext } from './redis-exact-entries.js';
import type { SendCommand } from './redis-scripts.js';

/**
 * What the command functions need from their storage: a way to send, the secret to scrub, and (for
 * entries whose bytes are not UTF-8) a way to read bytes and a logger.
 */
export interface CommandContext extends ExactContext {
  readonly send: SendCommand;
  /** The password, removed from every error message. */
  readonly secret: string | undefined;
}

/** Map a failure of `command` to a streamvisor error (see toStorageError). */
export function failure(
  ctx: CommandContext,
  error: unknown,
  command: string,
  stream: string,
  group: string | undefined,
): Error {
  return toStorageError(error, command, stream, group, ctx.secret);
}

/**
 * Raise `NoGroupError` unless `group` exists on `stream`. For commands such as XACK that answer 0
 * instead of `-NOGROUP`; the summary form of XPENDING does raise it.
 */
export async function assertGroupExists(ctx: CommandContext, stream: string, group: string): Promise<void> {
  try {
    await ctx.send('XPENDING', stream, group);
  } catch (error) {
    if (isReplyError(error) && isNoGroupReply(error.message))
      throw new NoGroupError(stream, group, { cause: error });
    throw failure(ctx, error, 'XPENDING', stream, group);
  }
}
