import { hashTag } from './key-slot.js';

/**
 * The sorted set that holds a stream's scheduled retries. It must live in the stream's hash slot
 * (the promoter's script touches both keys at once, which Redis Cluster allows only within a slot):
 * - a stream with a hash tag keeps it: `orders:{7}` → `orders:{7}:retry`;
 * - a stream without one becomes the tag: `orders` → `{orders}:retry` (slot of `orders` itself).
 *
 * @throws TypeError for a name with a `}` but no hash tag (e.g. `a}b`), whose slot no suffixed key can
 *   share; give such a stream a tag, or pass `key` to `RedisRetryScheduler`.
 * @example
 * retryKey('bot_events') // '{bot_events}:retry'
 */
export function retryKey(stream: string): string {
  if (typeof stream !== 'string' || stream === '') {
    throw new TypeError(`Expected \`stream\` to be a non-empty string, got ${JSON.stringify(stream)}`);
  }
  if (hashTag(stream) !== undefined) return `${stream}:retry`;
  if (!stream.includes('}')) return `{${stream}}:retry`;
  throw new TypeError(
    `Expected stream "${stream}" to have a hash tag such as "{orders}" or no "}" at all: no retry key can share its Redis Cluster slot; rename it or pass \`key\` to RedisRetryScheduler`,
  );
}
