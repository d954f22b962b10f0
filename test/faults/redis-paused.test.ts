import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import {
  auditDeadLetters,
  delay,
  eventually,
  type FaultContext,
  onPrivateRedis,
  pendingIds,
  printLedger,
  publishMany,
  testLogger,
} from './fault-support.js';

// Fault 3: redis-server is paused (SIGSTOP) for several block times, then resumed (SIGCONT). Its
// sockets stay open and nothing answers: a blocked XREADGROUP would wait forever. The read watchdog
// (blockMs + watchdogMarginMs) drops the reader's connection and fails the read with READ_TIMEOUT,
// the consumer backs off, and once Redis runs again every consumer reads and handles again. A read
// Redis executes late, on the dropped connection, leaves entries pending for that consumer: claim
// recovery hands them out after claim.minIdleMs.

afterEach(() => expectNoLeaks());

const BLOCK_MS = 300;
const MARGIN_MS = 300;
const PAUSE_MS = 2500; // > 4 × (block + margin)

describe('fault: Redis paused (SIGSTOP) longer than the block time', () => {
  it(
    'the watchdog reopens the read connections; no consumer hangs; nothing is lost',
    { timeout: 60_000 },
    onPrivateRedis(scenario),
  );
});

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:paused';
  const group = 'g';
  const consumers = ['p1', 'p2'];
  const router = new Router();
  router.on('job', async (message, ctx) => {
    await delay(2);
    ledger.handled(message.id, String(ctx.log.bindings().consumer));
  });
  const runtime = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url, {
        watchdogMarginMs: MARGIN_MS,
        commandTimeoutMs: 1000,
      }),
      router,
      logger: testLogger(),
      consumers: consumers.map((consumer) => ({
        stream,
        group,
        consumer,
        id: consumer,
        startId: '0',
        concurrency: 4,
        blockMs: BLOCK_MS,
        claim: { minIdleMs: 1500, intervalMs: 500 },
      })),
    }),
  );
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  try {
    await runtime.start();
    await publishMany(admin, stream, 300, ledger);
    await ledger.waitUntilSettled(ledger.publishedIds, 10_000);

    // Idle consumers sit in a blocking read when Redis stops answering.
    const pausedAt = events.length;
    server.pause();
    try {
      await eventually(
        () =>
          consumers.every((c) =>
            events.slice(pausedAt).some((e) => e.type === 'consumer.backoff' && e.consumerId === c),
          ),
        PAUSE_MS + 5000,
        'every consumer to back off while Redis is paused',
      );
      await delay(Math.max(0, PAUSE_MS - (BLOCK_MS + MARGIN_MS)));
    } finally {
      server.resume();
    }
    const timeouts = events
      .slice(pausedAt)
      .filter((e) => e.type === 'consumer.backoff' && /did not settle|timed? ?out/i.test(e.error ?? ''));
    expect(timeouts.length).toBeGreaterThan(0);

    const before = new Map(ledger.byConsumer);
    await publishMany(admin, stream, 600, ledger);
    await ledger.waitUntilSettled(ledger.publishedIds, 20_000);
    // No consumer hangs: each one handles messages again after the pause.
    for (const consumer of consumers) {
      expect(ledger.byConsumer.get(consumer) ?? 0, consumer).toBeGreaterThan(before.get(consumer) ?? 0);
    }
    for (const consumer of runtime.snapshot().consumers) {
      expect(['polling', 'dispatching', 'recovering']).toContain(consumer.state);
    }
  } finally {
    await runtime.stop({ timeoutMs: 5000 });
  }
  await auditDeadLetters(admin, `${stream}:dead`, ledger);
  printLedger('redis paused', ledger);
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(await pendingIds(admin, stream, group)).toEqual([]);
  expect(events.some((e) => e.type === 'runtime.failed')).toBe(false);
}
