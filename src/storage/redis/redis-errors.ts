import { ConnectionError } from '../../errors/connection-error.js';
import { NoGroupError } from '../../errors/no-group-error.js';
import { RedisCommandError } from '../../errors/redis-command-error.js';
import { StreamvisorError } from '../../errors/streamvisor-error.js';

// Replies that mean "not now" rather than "never": the server is loading, failing over or busy, or
// out of memory (`maxmemory` with `noeviction` refuses writes until memory is freed). They are
// retriable like a dropped connection, so the consumer backs off instead of exiting.
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'READONLY', 'OOM'];

/**
 * True for a reply that means "not now" (`LOADING`, `BUSY`, `MASTERDOWN`, `CLUSTERDOWN`, `TRYAGAIN`,
 * `READONLY`, `OOM`): try again later.
 *
 * @example
 * isTransientReply('LOADING Redis is loading the dataset in memory') // true
 */
export function isTransientReply(message: string): boolean {
  return TRANSIENT_REPLIES.includes(message.split(' ', 1)[0] ?? '');
}

/** True for an error Redis sent as a reply (`-ERR …`), as opposed to a client or socket error. */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/** True when Redis replied `-NOGROUP`, or unblocked a reader because its stream key was deleted. */
export function isNoGroupReply(message: string): boolean {
  return message.startsWith('NOGROUP') || message.startsWith('UNBLOCKED the stream key no longer exists');
}

/** `ERR no such key` (XINFO) or `ERR The XGROUP subcommand requires the key to exist` (XGROUP). */
export function isMissingKeyReply(message: string): boolean {
  return (
    message.startsWith('ERR no such key') || message.startsWith('ERR The XGROUP subcommand requires the key')
  );
}

/**
 * Map anything ioredis rejected with to a streamvisor error: `-NOGROUP` → `NoGroupError`, transient
 * replies and every non-reply error (socket closed, retries exhausted, timeouts) → `ConnectionError`,
 * other replies → `RedisCommandError`. Streamvisor errors pass through unchanged. `secret` (the
 * password) is scrubbed from every message.
 *
 * @example
 * try { await client.call('XACK', stream, group, id) } catch (error) { throw toStorageError(error, 'XACK', stream, group) }
 */
export function toStorageError(
  error: unknown,
  command: string,
  stream: string,
  group: string | undefined,
  secret?: string,
): Error {
  if (error instanceof StreamvisorError || error instanceof TypeError) return error;
  scrubCommand(error, secret);
  const raw = error instanceof Error ? error.message : String(error);
  const message = secret ? raw.split(secret).join('***') : raw;
  if (isReplyError(error)) {
    if (group !== undefined && isNoGroupReply(message))
      return new NoGroupError(stream, group, { cause: error });
    if (isTransientReply(message)) {
      return new ConnectionError(`Redis is not ready for ${command} on "${stream}": ${message}`, {
        cause: error,
      });
    }
    return new RedisCommandError(command, message, { cause: error });
  }
  return new ConnectionError(
    `Redis connection failed during ${command} on "${stream}": ${message}. The command may or may not have run; retry later`,
    { cause: error },
  );
}

/**
 * ioredis puts the failed command on its errors (`error.command = { name, args }`). For AUTH and
 * HELLO those args are the credentials, and the error travels on as our error's `cause`, where
 * `JSON.stringify`, `util.inspect` or a logger that serializes causes would print them. Redact them
 * (and any other occurrence of the password) in place.
 */
function scrubCommand(error: unknown, secret: string | undefined): void {
  if (typeof error !== 'object' || error === null || !('command' in error)) return;
  const command = error.command as { name?: unknown; args?: unknown } | null;
  if (typeof command !== 'object' || command === null || !Array.isArray(command.args)) return;
  const name = String(command.name).toLowerCase();
  if (name === 'auth' || name === 'hello') {
    command.args = command.args.map(() => '***');
  } else if (secret) {
    command.args = command.args.map((arg: unknown) =>
      typeof arg === 'string' && arg.includes(secret) ? arg.split(secret).join('***') : arg,
    );
  }
}
