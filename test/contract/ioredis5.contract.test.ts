import { Redis as Redis5 } from 'ioredis5';
import { afterAll, beforeAll } from 'vitest';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { describeStreamStorageContract } from '../../src/testing/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// The contract suite on an ioredis 5 client (devDependency `ioredis5`, an npm alias of ioredis@5):
// applications that still use ioredis 5 pass their client as it is, without a cast.
let admin: Redis5;
beforeAll(() => {
  admin = new Redis5(sharedRedisUrl(), { maxRetriesPerRequest: 1 });
});
afterAll(() => admin.quit());

describeStreamStorageContract('RedisStreamStorage on an ioredis 5 client', async () => {
  const prefix = uniquePrefix();
  const client = new Redis5(sharedRedisUrl());
  const storage = new RedisStreamStorage(client);
  return {
    storage,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    key: (name) => `${prefix}:${name}`,
    async deleteStream(stream) {
      await admin.del(stream);
    },
    async cleanup() {
      await storage.close();
      client.disconnect();
      await cleanupKeys(`${prefix}:`);
    },
  };
});
