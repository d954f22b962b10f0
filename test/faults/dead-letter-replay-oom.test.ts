// A dashboard replay whose target stream cannot be written (a private redis-server out of memory,
// noeviction): the failure is reported and the dead letters stay where they are.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type Runtime, startDashboard } from '../../src/index.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

describe('dashboard replay when Redis is out of memory', () => {
  let server: RedisServer;
  let client: Redis;
  let runtime: Runtime<unknown>;
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;
  const ids: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer({ args: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'] });
    client = new Redis(server.url, { protocol: 2, maxRetriesPerRequest: 1 });
    runtime = createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url),
      router: new Router(),
      consumers: [{ stream: 'orders', group: 'billing' }],
    });
    dashboard = await startDashboard(runtime, { port: 0 });
    for (const n of [1, 2]) {
      ids.push(
        (await client.xadd(
          'orders:dead',
          '*',
          'type',
          'order.paid',
          'payload',
          `{"n":${n}}`,
          'x-dead-reason',
          'handler-error',
          'x-source-stream',
          'orders',
        )) as string,
      );
    }
  });

  afterAll(async () => {
    await dashboard?.close();
    await runtime?.stop();
    client?.disconnect();
    await server?.stop();
  });

  const replay = async () => {
    const response = await fetch(new URL('/api/dead-letters/orders/replay', dashboard.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('reports the failure and leaves the dead letters in place; replays once memory is free', async () => {
    // Big values first, then small ones: a big command's own query buffer is counted in used_memory
    // and freed after the refusal, which would leave room for a small XADD.
    let keys = 0;
    for (const size of [256 * 1024, 4096, 64]) {
      const filler = 'x'.repeat(size);
      for (;;) {
        try {
          await client.set(`filler:${keys}`, filler);
          keys++;
        } catch (error) {
          expect(String(error)).toMatch(/OOM/);
          break;
        }
        if (keys > 100_000) throw new Error('maxmemory was never reached');
      }
    }

    // Filled to the limit, Redis sits a few hundred bytes over it, and a client's freed buffers can
    // take it back under: lower the limit well below what is used, so every write is refused.
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
    await client.config('SET', 'maxmemory', String(used - 512 * 1024));

    const failed = await replay();
    expect(failed.status, JSON.stringify(failed.body)).toBe(503);
    expect(failed.body.error).toMatch(/cannot write dead letter .* back to orders: .*OOM/);
    expect(failed.body).toMatchObject({ replayed: [], notReplayed: ids });
    expect(await client.xlen('orders:dead')).toBe(2);
    expect(await client.xlen('orders')).toBe(0);

    for (let i = 0; i < keys; i++) await client.del(`filler:${i}`);
    await client.config('SET', 'maxmemory', String(4 * 1024 * 1024));
    const done = await replay();
    expect(done.status).toBe(200);
    expect(done.body.replayed).toHaveLength(2);
    expect(await client.xlen('orders:dead')).toBe(0);
    expect(await client.xlen('orders')).toBe(2);
  });
});
