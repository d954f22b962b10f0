import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Message, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import {
  auditDeadLetters,
  eventually,
  type FaultContext,
  onPrivateRedis,
  pendingIds,
  printLedger,
  publishMany,
  testLogger,
} from './fault-support.js';

// Fault 7: stop({ timeoutMs }) while 64 handlers run. Handlers that finish before the deadline are
// acked; the others are aborted through ctx.signal at the deadline and their messages stay pending
// (not acked); the next runtime with the same consumer name re-processes its own PEL first and
// handles them. Driven by the test, not by wall time: even messages wait for a gate the test opens
// once stop() has begun (so they finish while the consumer drains), odd ones run until aborted.

afterEach(() => expectNoLeaks());

const CONCURRENCY = 64;
const STOP_TIMEOUT_MS = 300;

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
  let openGate: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  let stopCalledAt = 0;
  let firstAbortAfter = -1;
  const slow = new Router();
  slow.on('job', async (message, ctx) => {
    if (seqOf(message) % 2 === 0) {
      await gate;
    } else {
      await new Promise<never>((_, reject) => {
        ctx.signal.addEventListener('abort', () => {
          if (aborted.size === 0) firstAbortAfter = Date.now() - stopCalledAt;
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
  let running: string[] = [];
  try {
    await publishMany(admin, stream, 400, ledger);
    await first.start();
    await eventually(
      () => first.snapshot().consumers[0]!.inFlight === CONCURRENCY,
      10_000,
      '64 handlers running',
    );
    running = first
      .snapshot()
      .consumers[0]!.workers.flatMap((w) => (w.messageId === null ? [] : [w.messageId]));
    expect(running).toHaveLength(CONCURRENCY);
    expect(finishedFirst.size).toBe(0); // nothing can finish before the gate opens
    stopCalledAt = Date.now();
    const stopped = first.stop({ timeoutMs: STOP_TIMEOUT_MS });
    openGate(); // the even handlers finish while the consumer drains
    await stopped;
  } finally {
    openGate();
    await first.stop();
  }
  // Every running handler either finished (the even half) or was aborted (the odd half), none both.
  expect(finishedFirst.size).toBe(CONCURRENCY / 2);
  expect(aborted.size).toBe(CONCURRENCY / 2);
  expect(new Set([...finishedFirst, ...aborted])).toEqual(new Set(running));
  // Aborted at the deadline, not before (timers never fire early; 1 ms for their rounding).
  expect(firstAbortAfter).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS - 1);
  const pending = new Set(await pendingIds(admin, stream, group));
  for (const id of aborted) expect(pending.has(id), `aborted ${id} stays pending`).toBe(true);
  for (const id of finishedFirst) expect(pending.has(id), `finished ${id} was acked`).toBe(false);

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
    `[faults] graceful stop: ${finishedFirst.size} finished and acked, ${aborted.size} aborted and left pending, first abort ${firstAbortAfter} ms after stop()`,
  );
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.duplicates).toEqual([]); // nothing acked is delivered again
  expect(await pendingIds(admin, stream, group)).toEqual([]);
}
