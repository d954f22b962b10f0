import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { eventually, pendingCount, publishMany, testClient, testLogger } from './runtime-support.js';

// A runtime stopped while its handlers block leaves their messages pending; another runtime in the
// same group claims them (XAUTOCLAIM past claim.minIdleMs) and handles them.

afterEach(() => expectNoLeaks());

describe('claiming a stopped runtime’s pending messages (shared Redis)', { timeout: 15_000 }, () => {
  it('runtime B claims and handles what runtime A left pending; nothing is lost', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:events`;
    const group = 'workers';
    const ledger = new Ledger();
    const redis = testClient(sharedRedisUrl());

    const routerA = new Router();
    const startedOnA = new Set<string>();
    routerA.on('job', async (message, ctx) => {
      startedOnA.add(message.id);
      // Blocks until the stop deadline aborts it: the message must stay pending.
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    });
    const a = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router: routerA,
        logger: testLogger(),
        consumers: [{ stream, group, consumer: 'a', concurrency: 4, blockMs: 100 }],
      }),
    );

    const routerB = new Router();
    const deliveries = new Map<string, number>();
    routerB.on('job', async (message) => {
      deliveries.set(message.id, message.deliveries);
      ledger.handled(message.id, 'b');
    });
    const events: RuntimeEvent[] = [];
    const b = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router: routerB,
        logger: testLogger(),
        consumers: [
          {
            stream,
            group,
            consumer: 'b',
            concurrency: 4,
            blockMs: 100,
            claim: { minIdleMs: 300, intervalMs: 100 },
          },
        ],
      }),
    );
    b.subscribe((event) => events.push(event));

    try {
      await a.start();
      await publishMany(redis, stream, 10, ledger);
      await eventually(() => startedOnA.size === 4, 5000, 'A to start 4 handlers');
      const stuck = [...startedOnA];

      const stopStarted = Date.now();
      await a.stop({ timeoutMs: 100 });
      expect(Date.now() - stopStarted).toBeLessThan(2000);
      expect(a.status).toBe('stopped');
      expect(a.snapshot().consumers[0]!.processed).toBe(0);
      // A's 4 messages are still pending under consumer "a"; the other 6 were never read.
      const pendingA = (await redis.xpending(stream, group, '-', '+', 100, 'a')) as [string, ...unknown[]][];
      expect(pendingA.map(([id]) => id).sort()).toEqual([...stuck].sort());

      await b.start();
      await ledger.waitUntilHandled(8000);

      const report = ledger.report();
      expect(report.lost).toEqual([]);
      expect(report.duplicates).toEqual([]);
      expect(report.unexpected).toEqual([]);
      // The claimed ones reached B on their second delivery; the rest on their first.
      for (const id of ledger.publishedIds) expect(deliveries.get(id)).toBe(stuck.includes(id) ? 2 : 1);
    } finally {
      await Promise.all([a.stop({ timeoutMs: 100 }), b.stop({ timeoutMs: 2000 })]);
    }
    try {
      expect(b.snapshot().consumers[0]!.processed).toBe(10);
      expect(await pendingCount(redis, stream, group)).toBe(0);
      expect(events.some((e) => e.type === 'consumer.exited' && e.reason !== 'stopped')).toBe(false);
    } finally {
      redis.disconnect();
      await cleanupKeys(prefix);
    }
  });
});
