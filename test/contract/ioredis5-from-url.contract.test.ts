import { afterAll, beforeAll, vi } from 'vitest';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { describeStreamStorageContract } from '../../src/testing/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// `fromUrl` on ioredis 5: package.json accepts `ioredis` ^5.9 as well as ^6 (npm may dedupe to an
// application's ioredis 5), so the connections streamvisor creates itself must work on it too.
vi.mock('ioredis', async () => await import('ioredis5'));

const { Redis } = await import('ioredis');
let admin: InstanceType<typeof Redis>;
beforeAll(() => {
  admin = new Redis(sharedRedisUrl(), { maxRetriesPerRequest: 1 });
});
afterAll(() => admin.quit());

describeStreamStorageContract('RedisStreamStorage.fromUrl on ioredis 5', async () => {
  const prefix = uniquePrefix();
  const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  return {
    storage,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    key: (name) => `${prefix}:${name}`,
    async deleteStream(stream) {
      await admin.del(stream);
    },
    async cleanup() {
      await storage.close();
      await cleanupKeys(`${prefix}:`);
    },
  };
});
