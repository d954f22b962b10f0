import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where the bench runs its cases. */
export interface RedisTarget {
  url: string;
  /** `env`: REDIS_URL; `private`: a redis-server of our own; `shared`: the shared dev server. */
  mode: 'env' | 'private' | 'shared';
  /** Only a private server may be flushed between cases. */
  flushable: boolean;
  stop(): Promise<void>;
}

interface PrivateServer {
  url: string;
  stop(): Promise<void> | void;
}

const HELPER = fileURLToPath(new URL('../../test/helpers/redis-server.ts', import.meta.url));

/**
 * REDIS_URL if set; else a private `redis-server` from test/helpers/redis-server.ts (no RDB
 * snapshots, no AOF: a BGSAVE fork mid-drain would skew the figures); else, while that helper
 * does not exist yet, the shared server at 127.0.0.1:6379 (unique keys, never flushed).
 */
export async function openRedisTarget(log: (line: string) => void): Promise<RedisTarget> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== '') {
    return { url: fromEnv, mode: 'env', flushable: false, stop: async () => {} };
  }
  if (existsSync(HELPER)) {
    const helper = (await import(pathToFileURL(HELPER).href)) as {
      startRedisServer?: (options?: { appendOnly?: boolean; args?: string[] }) => Promise<PrivateServer>;
    };
    if (typeof helper.startRedisServer === 'function') {
      const server = await helper.startRedisServer({ appendOnly: false }); // it sets --save "" itself
      log(`redis: private redis-server at ${server.url}`);
      return {
        url: server.url,
        mode: 'private',
        flushable: true,
        stop: async () => {
          await server.stop();
        },
      };
    }
    log('redis: test/helpers/redis-server.ts has no startRedisServer export yet');
  }
  const url = 'redis://127.0.0.1:6379';
  log(`redis: no private server helper yet; using the shared ${url} with unique keys (figures are noisier)`);
  return { url, mode: 'shared', flushable: false, stop: async () => {} };
}
