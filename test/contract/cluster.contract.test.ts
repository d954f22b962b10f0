import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
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
