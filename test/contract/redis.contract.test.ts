import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { describeStreamStorageContract } from '../../src/testing/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// The contract suite on the shared Redis: each test gets its own key prefix and removes its keys.
let admin: Redis;
beforeAll(() => {
  admin = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });
});
afterAll(() => admin.quit());

describeStreamStorageContract('RedisStreamStorage', async () => {
  const prefix = uniquePrefix();
  const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  return {
    storage,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    key: (label) => `${prefix}:${label}`,
    async deleteStream(stream) {
      await admin.del(stream);
    },
    async cleanup() {
      await storage.close();
      await cleanupKeys(`${prefix}:`);
    },
  };
});
