import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The shared Redis of the test run: `REDIS_URL`, else `redis://127.0.0.1:6379`. Never flush it. */
export function sharedRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A key prefix no other test uses: `sv-test:<uuid>`. */
export function uniquePrefix(): string {
  return `sv-test:${randomUUID()}`;
}

/** A key no other test uses: `sv-test:<uuid>:<label>`. */
export function uniqueKey(label: string): string {
  return `${uniquePrefix()}:${label}`;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * Delete every key starting with `prefix` from the shared Redis (SCAN + UNLINK, never FLUSHALL).
 * Resolves the number of keys removed.
 */
export async function cleanupKeys(prefix: string, url = sharedRedisUrl()): Promise<number> {
  if (!prefix.startsWith('sv-test:'))
    throw new TypeError(`Refusing to clean up keys outside "sv-test:", got "${prefix}"`);
  const redis = new Redis(url, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1 });
  let removed = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}
