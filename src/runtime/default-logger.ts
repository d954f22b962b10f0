import { type Logger, pino } from 'pino';
import { redactUrl } from '../storage/redis/redis-url.js';

/**
 * Where credentials can sit in what the runtime (or a handler through `ctx.log`) logs: ioredis errors
 * carry the failed command (`command.args` of AUTH/HELLO hold the password), and options objects hold
 * Redis URLs. URLs keep everything but the password; everything else on these paths is censored.
 */
const REDACT_PATHS: readonly string[] = [
  'err.command.args',
  'err.cause.command.args',
  'error.command.args',
  'password',
  '*.password',
  'url',
  '*.url',
  'redisUrl',
  '*.redisUrl',
];

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1];
  return typeof value === 'string' && (key === 'url' || key === 'redisUrl') ? redactUrl(value) : '[Redacted]';
}

/**
 * The logger a runtime uses when none is given: pino at level `warn`, named `streamvisor`, writing
 * to stdout, with the credential paths of `REDACT_PATHS` redacted.
 *
 * @example
 * const logger = createDefaultLogger()
 * logger.warn({ url: 'redis://app:s3cret@cache:6379' }, 'connecting') // url: "redis://app:***@cache:6379"
 */
export function createDefaultLogger(): Logger {
  return pino({ level: 'warn', name: 'streamvisor', redact: { paths: [...REDACT_PATHS], censor } });
}
