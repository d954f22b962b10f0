import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, partitionStreams, publish, RedisStreamStorage, Router } from '../../src/index.js';
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { eventually, testLogger } from './runtime-support.js';

// Retention of a partitioned stream on a Redis Cluster (3 masters): each partition consumer trims its
// own partition, on the shard that holds it, and only what every group of that partition acked.

const PARTITIONS = 3;

let cluster: RedisCluster;
let admin: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  admin = new Cluster(
    cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    { redisOptions: { protocol: 2 } },
  );
}, 60_000);
afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

describe('retention on a Redis Cluster', { timeout: 30_000 }, () => {
  it('trims each partition to what its other group acked, on its own shard', async () => {
    const streams = partitionStreams('orders', PARTITIONS);
    const publisher = RedisStreamStorage.fromUrl(cluster.url);
    const audited = new Map<string, number>();
    try {
      for (const stream of streams) await publisher.ensureGroup(stream, 'audit', '0');
      for (let i = 0; i < 60; i++) {
        await publish(publisher, 'orders', 'job', { i }, { key: `k${i}`, partitions: PARTITIONS });
      }
      // The audit group (not run by streamvisor) reads and acks part of each partition.
      for (const [i, stream] of streams.entries()) {
        const read = await publisher.readGroup(stream, 'audit', 'a', { count: 4 + 3 * i });
        expect(read).toHaveLength(4 + 3 * i);
        const acked = read.slice(0, 2 + i).map((entry) => entry.id);
        await publisher.ack(stream, 'audit', acked);
        audited.set(stream, acked.length);
      }
      const lengths = await Promise.all(streams.map((stream) => publisher.length(stream)));
      expect(lengths.reduce((a, b) => a + b, 0)).toBe(60);

      const runtime = createRuntime({
        storage: RedisStreamStorage.fromUrl(cluster.url),
        router: new Router().on('job', () => {}),
        logger: testLogger(),
        consumers: [
          {
            stream: 'orders',
            group: 'billing',
            consumer: 'c',
            partitions: PARTITIONS,
            startId: '0',
            blockMs: 200,
            retention: { intervalMs: 100 },
          },
        ],
      });
      try {
        await runtime.start();
        const trimmed = () => runtime.snapshot().consumers.map((c) => c.trimmed);
        const expected = streams.map((stream) => audited.get(stream)!);
        await eventually(
          () => JSON.stringify(trimmed()) === JSON.stringify(expected),
          10_000,
          `trimmed ${JSON.stringify(expected)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(trimmed()).toEqual(expected);
        for (const [i, stream] of streams.entries()) {
          expect(await admin.xlen(stream)).toBe(lengths[i]! - expected[i]!);
          expect(await publisher.pending(stream, 'audit', { count: 100 })).toHaveLength(2 + 2 * i);
        }
      } finally {
        await runtime.stop({ timeoutMs: 2000 });
        expect(runtime.status).toBe('stopped');
      }
    } finally {
      await publisher.close();
    }
  });
});
