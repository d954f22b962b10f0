import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Message, RedisStreamStorage, Router } from '../../src/index.js';
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

// Fault 7: stop({ timeoutMs }) while 64 slow handlers run. Handlers that finish before the deadline
// are acked; the others are aborted through ctx.signal at the deadline and their messages stay
// pending (not acked); the next runtime with the same consumer name re-processes its own PEL first
// and handles them. Even messages finish in 300 ms; odd ones run until they are aborted.

afterEach(() => expectNoLeaks());

const CONCURRENCY = 64;
const STOP_TIMEOUT_MS = 1500;

describe('fault: graceful stop under load', () => {
  it(
    'finished handlers are acked, unfinished ones aborted and left pending, then handled by the next runtime',
    { timeout: 60_000 },
    onPrivateRedis(scenario),
  );
});

function seqOf(message: Message): number {
  return (message.payload as { seq: number }).seq;
}

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:graceful';
  const group = 'g';
  const aborted = new Set<string>();
  const finishedFirst = new Set<string>();
  const slow = new Router();
  slow.on('job', async (message, ctx) => {
    if (seqOf(message) % 2 === 0) {
      await delay(300);
    } else {
      await new Promise<never>((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborted.add(message.id);
          reject(ctx.signal.reason);
        });
      });
    }
    finishedFirst.add(message.id);
    ledger.handled(message.id, 'first');
  });
  const consumer = { stream, group, consumer: 'gs', startId: '0', concurrency: CONCURRENCY, blockMs: 300 };
  const first = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url),
      router: slow,
      logger: testLogger(),
      consumers: [consumer],
    }),
  );
  let stopTook = 0;
  try {
    await publishMany(admin, stream, 400, ledger);
    await first.start();
    await eventually(
      () => first.snapshot().consumers[0]!.inFlight === CONCURRENCY,
      10_000,
      '64 handlers running',
    );
    const running = first.snapshot().consumers[0]!.workers.map((w) => w.messageId);
    expect(running.filter((id) => id !== null)).toHaveLength(CONCURRENCY);
    const started = Date.now();
    await first.stop({ timeoutMs: STOP_TIMEOUT_MS });
    stopTook = Date.now() - started;
  } finally {
    await first.stop();
  }
  // Bounded: the deadline, plus at most the abort grace (1 s) and the ack flush.
  expect(stopTook).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS - 50);
  expect(stopTook).toBeLessThan(STOP_TIMEOUT_MS + 2000);
  const pending = new Set(await pendingIds(admin, stream, group));
  expect(aborted.size).toBeGreaterThan(0);
  for (const id of aborted) expect(pending.has(id), `aborted ${id} stays pending`).toBe(true);
  for (const id of finishedFirst) expect(pending.has(id), `finished ${id} was acked`).toBe(false);
  expect([...aborted].filter((id) => finishedFirst.has(id))).toEqual([]);

  const fast = new Router();
  fast.on('job', async (message) => {
    ledger.handled(message.id, 'second');
  });
  const second = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url),
      router: fast,
      logger: testLogger(),
      consumers: [consumer],
    }),
  );
  try {
    await second.start();
    await ledger.waitUntilSettled(ledger.publishedIds, 15_000);
  } finally {
    await second.stop({ timeoutMs: 5000 });
  }
  for (const id of aborted) expect(ledger.handlersOf(id)).toEqual(new Set(['second']));
  await auditDeadLetters(admin, `${stream}:dead`, ledger);
  printLedger('graceful stop', ledger);
  console.info(
    `[faults] graceful stop: ${finishedFirst.size} finished and acked, ${aborted.size} aborted and left pending, stop took ${stopTook} ms`,
  );
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.duplicates).toEqual([]); // nothing acked is delivered again
  expect(await pendingIds(admin, stream, group)).toEqual([]);
}
