import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { delay, eventually, pendingCount, publishMany, testClient, testLogger } from './runtime-support.js';

// The "Concurrency" done-when, over the shared Redis with slow handlers: after
// setConcurrency(id, 8) from 2, at most 8 and at least 6 handlers run at once; after
// setConcurrency(id, 1), at most 1; the snapshot lists 8, then 1, workers; nothing is lost.

afterEach(() => expectNoLeaks());

/** Handlers running now, and the most at once since `window()` was last called. */
function concurrencyMeter() {
  let running = 0;
  let max = 0;
  return {
    enter() {
      running++;
      max = Math.max(max, running);
    },
    leave() {
      running--;
    },
    /** The most at once since the last call; the next window starts from those running now. */
    window(): number {
      const seen = max;
      max = running;
      return seen;
    },
  };
}

describe('runtime.setConcurrency over Redis', { timeout: 60_000 }, () => {
  it('2 → 8 → 1 workers under slow handlers: the limits hold, the snapshot follows, nothing is lost', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:jobs`;
    const group = 'g';
    const ledger = new Ledger();
    const meter = concurrencyMeter();
    const redis = testClient(sharedRedisUrl());
    const router = new Router().on('job', async (message) => {
      meter.enter();
      await delay(25);
      meter.leave();
      ledger.handled(message.id);
    });
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        logger: testLogger(),
        consumers: [{ stream, group, consumer: 'c', concurrency: 2, blockMs: 200 }],
      }),
    );
    const id = `${stream}/${group}/c`;
    const workers = () => runtime.snapshot().consumers[0]?.workers.map((w) => w.id);
    try {
      await runtime.start();
      const ids = await publishMany(redis, stream, 600, ledger);
      await eventually(() => ledger.report().lost.length < 590, 10_000, 'handlers to start');
      await delay(300);
      expect(meter.window()).toBeLessThanOrEqual(2);
      expect(workers()).toEqual(['w0', 'w1']);

      await runtime.setConcurrency(id, 8);
      expect(workers()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']);
      meter.window();
      await delay(600);
      const at8 = meter.window();
      expect(at8).toBeLessThanOrEqual(8);
      expect(at8).toBeGreaterThanOrEqual(6);

      await runtime.setConcurrency(id, 1);
      expect(workers()).toEqual(['w0']);
      meter.window(); // the busy workers above w0 finished before the change resolved
      await delay(400);
      expect(meter.window()).toBe(1);
      expect(ledger.report().lost.length).toBeGreaterThan(0); // still work left: the window saw load

      await runtime.setConcurrency(id, 8);
      await ledger.waitUntilHandled(30_000);
      const report = ledger.report();
      expect(report.lost).toEqual([]);
      expect(report.duplicates).toEqual([]);
      expect(report.unexpected).toEqual([]);
      expect(ids.every((m) => ledger.timesHandled(m) === 1)).toBe(true);
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
    }
    try {
      expect(await pendingCount(redis, stream, group)).toBe(0);
      expect(runtime.snapshot().consumers[0]?.processed).toBe(600);
    } finally {
      await cleanupKeys(prefix);
      redis.disconnect();
    }
  });
});
