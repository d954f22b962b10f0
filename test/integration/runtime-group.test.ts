import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { delay, pendingCount, publishMany, testClient, testLogger } from './runtime-support.js';

// Several runtimes, one consumer each, in one group on the shared Redis: the group splits the work.

afterEach(() => expectNoLeaks());

describe('runtimes sharing one consumer group (shared Redis)', { timeout: 15_000 }, () => {
  it('3 runtimes handle 3,000 messages: every one exactly once, and each runtime did some', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:events`;
    const group = 'workers';
    const ledger = new Ledger();
    const redis = testClient(sharedRedisUrl());
    const names = ['c1', 'c2', 'c3'];
    const runtimes = names.map((name) => {
      const router = new Router();
      router.on('job', async (message) => {
        // A little real asynchrony so no consumer drains the stream alone.
        await delay(1);
        ledger.handled(message.id, name);
      });
      return trackRuntime(
        createRuntime({
          storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
          router,
          logger: testLogger(),
          consumers: [{ stream, group, consumer: name, concurrency: 8, blockMs: 200 }],
        }),
      );
    });
    try {
      await Promise.all(runtimes.map((r) => r.start()));
      expect(runtimes.map((r) => r.status)).toEqual(['running', 'running', 'running']);

      const ids = await publishMany(redis, stream, 3000, ledger);
      await ledger.waitUntilHandled(10_000);

      const report = ledger.report();
      expect(report.lost).toEqual([]);
      expect(report.unexpected).toEqual([]);
      expect(report.duplicates).toEqual([]);
      expect(new Set(ids.filter((id) => ledger.timesHandled(id) === 1)).size).toBe(3000);
      for (const name of names) expect(ledger.byConsumer.get(name) ?? 0).toBeGreaterThan(0);
    } finally {
      await Promise.all(runtimes.map((r) => r.stop({ timeoutMs: 2000 })));
    }
    try {
      // Acks are flushed by stop(): nothing is left pending in the group.
      expect(runtimes.map((r) => r.status)).toEqual(['stopped', 'stopped', 'stopped']);
      // The runtimes' own counters (a message counts once its ack is queued) agree with the ledger.
      const processed = runtimes.map((r) => r.snapshot().consumers[0]!.processed);
      expect(processed).toEqual(names.map((name) => ledger.byConsumer.get(name)));
      expect(processed.reduce((a, b) => a + b, 0)).toBe(3000);
      expect(await pendingCount(redis, stream, group)).toBe(0);
    } finally {
      redis.disconnect();
      await cleanupKeys(prefix);
    }
  });
});
