import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../../src/storage/redis/key-slot.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { describeStreamStorageContract } from '../../src/testing/index.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';

// The contract suite on a private 3-master Redis Cluster through `redis+cluster://` seeds: every
// command of RedisStreamStorage must work on a Cluster (no CROSSSLOT, routed by its key's slot).
// Keys carry no hash tag, so the streams of one test land on different shards.
let cluster: RedisCluster;
let admin: Cluster;
let counter = 0;
const seeds = () => cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  admin = new Cluster(seeds(), { redisOptions: { protocol: 2 } });
}, 60_000);
afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

describeStreamStorageContract('RedisStreamStorage on a Redis Cluster', async () => {
  const prefix = `c${++counter}`;
  const storage = RedisStreamStorage.fromUrl(cluster.url);
  return {
    storage,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    key: (label) => `${prefix}:${label}`,
    async deleteStream(stream) {
      await admin.del(stream);
    },
    async cleanup() {
      await storage.close();
    },
  };
});

// The application's own Cluster, created with no option (RESP3 on every node with ioredis 6).
describeStreamStorageContract('RedisStreamStorage on new Cluster(nodes), RESP3', async () => {
  const prefix = `c${++counter}`;
  const client = new Cluster(seeds());
  const storage = new RedisStreamStorage(client);
  return {
    storage,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    key: (label) => `${prefix}:${label}`,
    async deleteStream(stream) {
      await admin.del(stream);
    },
    async cleanup() {
      await storage.close();
      client.disconnect();
    },
  };
});

describe('RedisStreamStorage.sameSlot on a Cluster', () => {
  it('agrees with CLUSTER KEYSLOT, and refuses keys of different slots', async () => {
    const storage = RedisStreamStorage.fromUrl(cluster.url);
    try {
      const keys = ['foo', 'bar', 'orders', '{orders}:out', 'orders:{3}', 'out:{3}', 'é✓{}x', 'a{}b{c}'];
      for (const key of keys)
        expect(keySlot(key), key).toBe(Number(await admin.call('CLUSTER', 'KEYSLOT', key)));
      expect(storage.sameSlot('orders', '{orders}:out')).toBe(true);
      expect(storage.sameSlot('in:{3}', 'out:{3}')).toBe(true);
      expect(storage.sameSlot('foo', 'bar')).toBe(false);
    } finally {
      await storage.close();
    }
  });
});
