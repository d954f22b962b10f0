import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { Ledger } from '../helpers/ledger.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { delay, eventually, pendingCount, publishMany, testClient, testLogger } from './runtime-support.js';

// Connection loss on a private redis-server: CLIENT KILL TYPE normal drops every client connection
// of the runtime (its command connection and its blocking-read connection). That is not a crash:
// the consumer goes to `backoff`, comes back to `polling` without a restart, and loses nothing.

afterEach(() => expectNoLeaks());

describe('Redis connections killed (private redis-server)', { timeout: 15_000 }, () => {
  it('the consumer backs off, resumes, and every message is handled', async () => {
    const server = await startRedisServer();
    const stream = 'sv:events';
    const group = 'workers';
    const ledger = new Ledger();
    // The test's own client survives CLIENT KILL (SKIPME yes is the default for the caller).
    const admin = testClient(server.url);
    const router = new Router();
    router.on('job', async (message) => {
      await delay(5);
      ledger.handled(message.id);
    });
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(server.url),
        router,
        logger: testLogger(),
        consumers: [{ stream, group, consumer: 'c1', concurrency: 4, blockMs: 200 }],
      }),
    );
    const events: RuntimeEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    try {
      await runtime.start();
      await publishMany(admin, stream, 200, ledger);
      // Killed while its read is blocked on the server: the read must fail and the consumer back off.
      // (Killed between reads, a consumer may never see the error: the reconnected connection serves
      // the next read, and an ack that failed is retried by the ack batcher.)
      await ledger.waitUntilHandled(8000);
      await eventually(
        async () => /cmd=xreadgroup/.test(String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal'))),
        5000,
        'a blocked XREADGROUP',
      );

      const killed = Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal'));
      expect(killed).toBeGreaterThanOrEqual(2); // the command and the blocking-read connections
      await eventually(() => events.some((e) => e.type === 'consumer.backoff'), 5000, 'consumer.backoff');
      const backoffAt = events.findIndex((e) => e.type === 'consumer.backoff');
      await eventually(
        () => events.slice(backoffAt).some((e) => e.type === 'consumer.state' && e.state === 'polling'),
        5000,
        'the consumer to poll again',
      );

      await publishMany(admin, stream, 100, ledger);
      await ledger.waitUntilHandled(8000);
      const report = ledger.report();
      expect(report.lost).toEqual([]);
      expect(report.unexpected).toEqual([]);
      expect(events[backoffAt]).toMatchObject({ type: 'consumer.backoff', attempt: 1 });
      // Connection loss is not a crash: no exit, no restart.
      expect(events.filter((e) => e.type === 'consumer.exited' || e.type === 'consumer.restarted')).toEqual(
        [],
      );
      expect(runtime.snapshot().consumers[0]).toMatchObject({ restarts: 0 });
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
    }
    try {
      expect(await pendingCount(admin, stream, group)).toBe(0);
    } finally {
      admin.disconnect();
      await server.stop();
    }
  });
});
