import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import {
  delay,
  eventually,
  pendingCount,
  startPublisher,
  testClient,
  testLogger,
} from './runtime-support.js';

// The consumer group is destroyed (XGROUP DESTROY) while a publisher keeps writing. What is
// guaranteed, for a single consumer whose handlers succeed:
// - every entry published after the fault is handled: the restarted consumer recreates the group at
//   the last id it had read (not at `$`), so entries written while there was no group are delivered;
// - every entry published before the fault is handled too: the ones already read either were acked
//   or were in flight and finished while the consumer drained (their acks fail with NOGROUP, which is
//   harmless: the handler ran); the ones not yet read lie after the last read id;
// - history is not replayed: nothing at or before the last read id is delivered again, so there are
//   no duplicates at all in this scenario (at-least-once would allow some, e.g. with several
//   consumers whose last ids differ, or a handler that fails while the group is gone).

afterEach(() => expectNoLeaks());

describe('consumer group destroyed mid-run (shared Redis)', { timeout: 15_000 }, () => {
  it('heals by recreating the group at the last read id: nothing lost, nothing replayed', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:events`;
    const group = 'workers';
    const ledger = new Ledger();
    const redis = testClient(sharedRedisUrl());
    const router = new Router();
    router.on('job', async (message) => {
      await delay(2);
      ledger.handled(message.id);
    });
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        logger: testLogger(),
        consumers: [{ stream, group, consumer: 'c1', concurrency: 4, blockMs: 100 }],
        supervisor: { backoff: { minMs: 50, maxMs: 200 } },
      }),
    );
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));

    // Publish only once the runtime has started, so every entry is read after the group exists.
    let publisher: { stop(): Promise<void> } | null = null;
    let afterFault: string[] = [];
    try {
      await runtime.start();
      publisher = startPublisher(redis, stream, ledger);
      await eventually(() => ledger.handledCount >= 50, 5000, '50 messages handled before the fault');

      expect(await redis.xgroup('DESTROY', stream, group)).toBe(1);
      // The publisher shares this connection, so once DESTROY has replied, every XADD sent before it
      // has replied (and was recorded) too: the ids recorded from here on were added after the fault.
      const beforeFault = ledger.publishedIds.length;
      await eventually(
        () => events.some((e) => e.type === 'consumer.restarted'),
        5000,
        'the consumer to be restarted',
      );
      await eventually(() => ledger.publishedIds.length >= beforeFault + 100, 5000, '100 more published');
      await publisher.stop();
      afterFault = ledger.publishedIds.slice(beforeFault);
      await ledger.waitUntilHandled(8000);
    } finally {
      await publisher?.stop();
      await runtime.stop({ timeoutMs: 2000 });
    }
    try {
      expect(ledger.report(afterFault).lost).toEqual([]);
      const report = ledger.report();
      expect(report.lost).toEqual([]);
      expect(report.unexpected).toEqual([]);
      expect(report.duplicates).toEqual([]);

      const exited = events.find((e) => e.type === 'consumer.exited');
      expect(exited).toMatchObject({ reason: 'nogroup' });
      expect(events.find((e) => e.type === 'consumer.restarted')).toMatchObject({
        reason: 'nogroup',
        restarts: 1,
      });
      // The second group was created at a real id (the last one read), not at '$'.
      const created = events.filter((e) => e.type === 'consumer.group-created');
      expect(created).toHaveLength(2);
      expect(created[1]).toMatchObject({ startId: expect.stringMatching(/^\d+-\d+$/) });
      expect(runtime.snapshot().consumers[0]).toMatchObject({ restarts: 1 });
      expect(await redis.xinfo('GROUPS', stream)).toHaveLength(1);
      expect(await pendingCount(redis, stream, group)).toBe(0);
    } finally {
      redis.disconnect();
      await cleanupKeys(prefix);
    }
  });

  it('with two consumers: nothing lost; duplicates only among entries published before the fault', async () => {
    // Each consumer recreates the group at its own last read id; the first to do so wins, and when it
    // had read less far than the other, the entries in between are delivered again: at-least-once.
    const prefix = uniquePrefix();
    const stream = `${prefix}:events`;
    const group = 'workers';
    const ledger = new Ledger();
    const redis = testClient(sharedRedisUrl());
    const events: RuntimeEvent[] = [];
    const runtimes = ['a', 'b'].map((name) => {
      const router = new Router();
      router.on('job', async (message) => {
        await delay(10);
        ledger.handled(message.id, name);
      });
      const runtime = trackRuntime(
        createRuntime({
          storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
          router,
          logger: testLogger(),
          consumers: [{ stream, group, consumer: name, concurrency: 4, blockMs: 100 }],
          supervisor: { backoff: { minMs: 50, maxMs: 200 } },
        }),
      );
      runtime.subscribe((event) => events.push(event));
      return runtime;
    });
    let publisher: { stop(): Promise<void> } | null = null;
    let beforeFault = new Set<string>();
    let afterFault: string[] = [];
    try {
      await Promise.all(runtimes.map((r) => r.start()));
      publisher = startPublisher(redis, stream, ledger, 1);
      await eventually(() => ledger.handledCount >= 40, 5000, '40 messages handled before the fault');
      await redis.xgroup('DESTROY', stream, group);
      // The publisher shares this connection, so once DESTROY has replied, every XADD sent before it
      // has replied (and was recorded) too: the ids recorded from here on were added after the fault.
      const cut = ledger.publishedIds.length;
      await eventually(
        () => events.filter((e) => e.type === 'consumer.restarted').length === 2,
        5000,
        'both consumers to be restarted',
      );
      await eventually(() => ledger.publishedIds.length >= cut + 100, 5000, '100 more published');
      await publisher.stop();
      beforeFault = new Set(ledger.publishedIds.slice(0, cut));
      afterFault = ledger.publishedIds.slice(cut);
      await ledger.waitUntilHandled(8000);
    } finally {
      await publisher?.stop();
      await Promise.all(runtimes.map((r) => r.stop({ timeoutMs: 2000 })));
    }
    try {
      const report = ledger.report();
      expect(report.lost).toEqual([]);
      expect(report.unexpected).toEqual([]);
      expect(report.duplicates.filter((id) => !beforeFault.has(id))).toEqual([]);
      expect(afterFault.filter((id) => ledger.timesHandled(id) !== 1)).toEqual([]);
      for (const name of ['a', 'b']) expect(ledger.byConsumer.get(name) ?? 0).toBeGreaterThan(0);
      expect(await pendingCount(redis, stream, group)).toBe(0);
    } finally {
      redis.disconnect();
      await cleanupKeys(prefix);
    }
  });
});
