import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { describeStreamStorageContract } from '../../src/testing/index.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// The contract suite on clients the application creates as it likes (issue 13, point 5): ioredis 6
// speaks RESP3 by default, whose maps (XREADGROUP's streams, XINFO's records) arrive as flat arrays
// (`replyMapping: 'legacy'`, the default) or as objects (`replyMapping: 'resp3'`), and numbers as
// strings with `stringNumbers`. RESP2 through `fromUrl` is redis.contract.test.ts.
let admin: Redis;
beforeAll(() => {
  admin = new Redis(sharedRedisUrl(), { maxRetriesPerRequest: 1 });
});
afterAll(() => admin.quit());

const clients = {
  'new Redis(url): RESP3, legacy reply mapping': () => new Redis(sharedRedisUrl()),
  "RESP3 with replyMapping 'resp3' and stringNumbers": () =>
    new Redis(sharedRedisUrl(), { replyMapping: 'resp3', stringNumbers: true }),
};

for (const [label, connect] of Object.entries(clients)) {
  describeStreamStorageContract(`RedisStreamStorage, ${label}`, async () => {
    const prefix = uniquePrefix();
    const client = connect();
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
}
