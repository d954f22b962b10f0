import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { delay, eventually, pendingCount, testClient, testLogger } from './runtime-support.js';

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

describe('consumer group destroyed mid-run (shared Redis)', () => {
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

    // The group is created at '$': publish only once the runtime has started.
    let publishing = true;
    let publisher: Promise<void> = Promise.resolve();
    let afterFault: string[] = [];
    try {
      await runtime.start();
      publisher = (async () => {
        while (publishing) {
          ledger.published(String(await redis.xadd(stream, '*', 'type', 'job', 'payload', '{}')));
          await delay(2);
        }
      })();
      await eventually(() => ledger.handledCount >= 50, 5000, '50 messages handled before the fault');

      const beforeFault = ledger.publishedIds.length;
      expect(await redis.xgroup('DESTROY', stream, group)).toBe(1);
      await eventually(
        () => events.some((e) => e.type === 'consumer.restarted'),
        5000,
        'the consumer to be restarted',
      );
      await eventually(() => ledger.publishedIds.length >= beforeFault + 100, 5000, '100 more published');
      publishing = false;
      await publisher;
      afterFault = ledger.publishedIds.slice(beforeFault);
      await ledger.waitUntilHandled(8000);
    } finally {
      publishing = false;
      await publisher;
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
});
