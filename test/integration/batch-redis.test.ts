import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { eventually, pendingCount, publishMany, testClient, testLogger } from './runtime-support.js';

// Batch handlers over a real Redis, under load (a backlog of 3,000 messages): calls get at most
// `size` messages and most are full, a batch that throws once is retried whole so every message
// is handled once, a malformed entry among them is dead-lettered alone, nothing is left pending.

const prefix = uniquePrefix();
afterEach(() => expectNoLeaks());
afterAll(() => cleanupKeys(prefix));

describe('router.batch on Redis', () => {
  it('handles a backlog in full batches, each message once, the malformed one dead-lettered alone', async () => {
    const stream = `${prefix}:metrics`;
    const redis = testClient(sharedRedisUrl());
    const ledger = new Ledger();
    const first = await publishMany(redis, stream, 1500, ledger, 'metric');
    const malformed = String(await redis.xadd(stream, '*', 'type', 'metric', 'payload', '{"seq": oops'));
    const second = await publishMany(redis, stream, 1500, ledger, 'metric');
    const good = [...first, ...second];

    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    const acks: string[][] = [];
    const ack = storage.ack.bind(storage);
    storage.ack = (s, g, ids) => {
      acks.push([...ids]);
      return ack(s, g, ids);
    };
    const sizes: number[] = [];
    const succeeded: string[][] = [];
    const handled = new Map<string, number>();
    let thrown = 0;
    const router = new Router();
    router.batch(
      'metric',
      async (messages) => {
        const call = sizes.push(messages.length);
        // One Redis round trip per call, like a write of the whole batch would be.
        await redis.ping();
        if (call === 10) {
          thrown++;
          throw new Error('the database said no, once');
        }
        for (const m of messages) handled.set(m.id, (handled.get(m.id) ?? 0) + 1);
        succeeded.push(messages.map((m) => m.id));
      },
      { size: 50, waitMs: 20 },
    );
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        logger: testLogger(),
        consumers: [
          { stream, group: 'g', consumer: 'c1', concurrency: 4, blockMs: 200, retry: { attempts: 3 } },
        ],
      }),
    );
    await runtime.start();
    try {
      await eventually(() => handled.size === good.length, 60_000, 'every message handled');
      await eventually(async () => (await pendingCount(redis, stream, 'g')) === 0, 10_000, 'nothing pending');
    } finally {
      await runtime.stop({ timeoutMs: 5000 });
      redis.disconnect();
    }

    expect(thrown).toBe(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    const full = sizes.filter((n) => n === 50).length;
    expect(full / sizes.length).toBeGreaterThanOrEqual(0.8);
    // Every message handled once (the batch that threw was retried whole, then succeeded).
    expect([...handled.keys()].sort()).toEqual([...good].sort());
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(handled.has(malformed)).toBe(false);
    // Each batch that succeeded was acked in one XACK.
    for (const ids of succeeded) expect(acks.some((call) => ids.every((id) => call.includes(id)))).toBe(true);
    const reader = testClient(sharedRedisUrl());
    const dead = await reader.xrange(`${stream}:dead`, '-', '+');
    expect(dead).toHaveLength(1);
    const fields = Object.fromEntries(
      (dead[0]?.[1] ?? []).flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]]] : [])),
    );
    expect(fields).toMatchObject({ 'x-source-id': malformed, 'x-dead-reason': 'malformed-payload' });
    expect(await pendingCount(reader, stream, 'g')).toBe(0);
    reader.disconnect();
  });
});
