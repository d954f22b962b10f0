import { StreamvisorError, type StreamvisorErrorOptions } from './streamvisor-error.js';

/**
 * Redis answered a command with an error other than NOGROUP (for example `WRONGTYPE` when the
 * stream key holds another type, or `NOPERM` when the ACL user lacks a command). Not retriable:
 * the consumer machine exits with reason `fatal` and the supervisor decides.
 *
 * @example
 * if (error instanceof RedisCommandError && error.reply.startsWith('NOPERM')) grantStreamCommands()
 */
export class RedisCommandError extends StreamvisorError {
  override name = 'RedisCommandError';
  /** The first word of Redis' error reply, e.g. `WRONGTYPE`. */
  readonly reply: string;

  constructor(command: string, reply: string, options: StreamvisorErrorOptions = {}) {
    super(`Redis rejected ${command}: ${reply}`, 'REDIS', false, options);
    this.reply = reply.split(' ', 1)[0] ?? reply;
  }
}
