import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics, createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { delay, eventually, pendingCount, publishMany, testClient, testLogger } from './runtime-support.js';

// Retention on the shared Redis (7.0 in CI): the consumer trims only what every group delivered and
// acked, including a group streamvisor does not run.

afterEach(() => expectNoLeaks());

describe('retention (shared Redis)', { timeout: 20_000 }, () => {
  let prefix: string;
  let redis: Redis;
  beforeEach(() => {
    prefix = uniquePrefix();
    redis = testClient(sharedRedisUrl());
  });
  afterEach(async () => {
    redis.disconnect();
    await cleanupKeys(prefix);
  });

  it('with a second group that read 500 of 1,000 entries and acked 300, trims those 300 and keeps all 700 others', async () => {
    const stream = `${prefix}:events`;
    const ledger = new Ledger();
    const ids = await publishMany(redis, stream, 1000, ledger);
    // Another service's group, not run by streamvisor: it read 500 and acked the first 300.
    await redis.xgroup('CREATE', stream, 'analytics', '0');
    const read = (await redis.xreadgroup(
      'GROUP',
      'analytics',
      'a1',
      'COUNT',
      500,
      'STREAMS',
      stream,
      '>',
    )) as [string, [string, string[]][]][];
    const readIds = read[0]![1].map(([id]) => id);
    expect(readIds).toEqual(ids.slice(0, 500));
    expect(await redis.xack(stream, 'analytics', ...readIds.slice(0, 300))).toBe(300);

    const router = new Router().on('job', (message) => ledger.handled(message.id, 'bot'));
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        logger: testLogger(),
        consumers: [
          {
            id: 'bot',
            stream,
            group: 'bot',
            consumer: 'c',
            startId: '0',
            blockMs: 200,
            retention: { intervalMs: 100 },
          },
        ],
      }),
    );
    const metrics = createMetrics(runtime);
    try {
      await runtime.start();
      await ledger.waitUntilHandled(10_000);
      await eventually(async () => (await pendingCount(redis, stream, 'bot')) === 0, 5000, 'bot acked all');
      await eventually(() => runtime.snapshot().consumers[0]!.trimmed === 300, 5000, '300 entries trimmed');
      // Several more intervals: nothing else goes while analytics has 200 pending and 500 unread.
      const before = runtime.snapshot().consumers[0]!.trimmed;
      await delay(400);
      expect(runtime.snapshot().consumers[0]!.trimmed).toBe(before);

      const left = (await redis.xrange(stream, '-', '+')).map(([id]) => id);
      expect(left).toEqual(ids.slice(300));
      expect(await redis.xlen(stream)).toBe(700);
      // What analytics still owes is all there: its 200 pending can be claimed, its 500 unread read.
      const pending = (await redis.xpending(stream, 'analytics', '-', '+', 1000)) as [string, ...unknown[]][];
      expect(pending.map(([id]) => id)).toEqual(ids.slice(300, 500));
      const claimed = (await redis.xclaim(stream, 'analytics', 'a2', 0, ...ids.slice(300, 500))) as [
        string,
        string[] | null,
      ][];
      expect(claimed.filter(([, fields]) => fields !== null)).toHaveLength(200);
      const text = parsePrometheusText(await metrics.metrics());
      expect(
        sampleValue(text, 'streamvisor_entries_trimmed_total', { stream, group: 'bot', consumer: 'c' }),
      ).toBe(300);

      // Analytics acks its 200: everything it was delivered goes, the 500 it has not read stay.
      await redis.xack(stream, 'analytics', ...ids.slice(300, 500));
      await eventually(() => runtime.snapshot().consumers[0]!.trimmed === 500, 5000, '500 entries trimmed');
      await delay(400);
      expect(runtime.snapshot().consumers[0]!.trimmed).toBe(500);
      expect((await redis.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(ids.slice(500));
      const rest = (await redis.xreadgroup(
        'GROUP',
        'analytics',
        'a1',
        'COUNT',
        1000,
        'STREAMS',
        stream,
        '>',
      )) as [string, [string, string[]][]][];
      expect(rest[0]![1].map(([id]) => id)).toEqual(ids.slice(500));

      await redis.xack(stream, 'analytics', ...ids.slice(500));
      await eventually(async () => (await redis.xlen(stream)) === 0, 5000, 'the stream trimmed to empty');
      // The XTRIM's reply reaches the consumer after another connection can already see XLEN 0.
      await eventually(() => runtime.snapshot().consumers[0]!.trimmed >= 1000, 2000, 'the trim counted');
      expect(runtime.snapshot().consumers[0]!.trimmed).toBe(1000);
    } finally {
      metrics.close();
      await runtime.stop({ timeoutMs: 2000 });
    }
  });

  it('trims at the right id where sequence numbers carry over (ids compared as 64-bit, not as doubles)', async () => {
    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    const stream = `${prefix}:ids`;
    try {
      const ids = [
        '5-8',
        '5-9',
        '5-10',
        '5-99',
        '5-100',
        '7-18446744073709551614',
        '7-18446744073709551615',
        '8-0',
      ];
      for (const id of ids) await redis.xadd(stream, id, 'type', 't');
      await redis.xgroup('CREATE', stream, 'g', '0');
      const deliverAndAck = async (n: number) => {
        const got = (await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', n, 'STREAMS', stream, '>')) as [
          string,
          [string, string[]][],
        ][];
        await redis.xack(stream, 'g', ...got[0]![1].map(([id]) => id));
      };
      const left = async () => (await redis.xrange(stream, '-', '+')).map(([id]) => id);
      await deliverAndAck(2); // last delivered 5-9: the next id is 5-10, not 5-:
      expect(await storage.trimAcked(stream)).toBe(2);
      expect(await left()).toEqual(ids.slice(2));
      await deliverAndAck(2); // 5-99 → 5-100
      expect(await storage.trimAcked(stream)).toBe(2);
      await deliverAndAck(2); // 7-18446744073709551614 → …615, which stays
      expect(await storage.trimAcked(stream)).toBe(2);
      expect(await left()).toEqual(ids.slice(6));
      await deliverAndAck(1); // 7-<max> → 8-0, which stays
      expect(await storage.trimAcked(stream)).toBe(1);
      expect(await left()).toEqual(['8-0']);
    } finally {
      await storage.close();
    }
  });
});
