/**
 * A sabotage preload for the soak (`npm run soak -- --sabotage noop-xack`): loaded into each worker
 * process with `node --import tsx --import <this file>`, it makes every ioredis XACK resolve with the
 * number of ids it names WITHOUT sending it, as a client bug that silently drops acks would. Nothing
 * else changes, so the runtime believes every message was acked; the soak must fail (entries stay
 * pending, are claimed again and handled again). Never loaded by the tests.
 */
import { Redis } from 'ioredis';

interface SentCommand {
  name: string;
  args: unknown[];
  resolve(value: unknown): void;
  promise: Promise<unknown>;
}

const send = Redis.prototype.sendCommand as (this: Redis, command: SentCommand, stream?: unknown) => unknown;
Redis.prototype.sendCommand = function sendCommand(this: Redis, command: SentCommand, stream?: unknown) {
  if (command.name.toLowerCase() !== 'xack') return send.call(this, command, stream);
  command.resolve(Math.max(0, command.args.length - 2));
  return command.promise;
} as typeof Redis.prototype.sendCommand;
