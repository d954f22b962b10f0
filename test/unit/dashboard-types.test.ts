import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '../../src/actors/runtime-events.js';
import { watchDurations } from '../../src/dashboard/duration-hooks.js';
import { TypeTally } from '../../src/dashboard/type-tally.js';
import { createRuntime, MemoryStreamStorage, NonRetryableError, Router } from '../../src/index.js';

const retrying = (messageId: string, attempt: number, messageType: string | null = 't'): RuntimeEvent => ({
  type: 'message.retrying',
  at: 0,
  consumerId: 'c',
  messageId,
  messageType,
  attempt,
  delayMs: 10,
  error: 'boom',
});

describe('TypeTally', () => {
  it('counts handled calls and estimates p50/p99 within a bucket (25%)', () => {
    const tally = new TypeTally();
    const hook = tally.hook('c');
    for (let ms = 1; ms <= 100; ms++) hook(ms, 'order.placed', true);
    hook(5, 'order.placed', false);
    const [row] = tally.top('c');
    expect(row).toMatchObject({ type: 'order.placed', handled: 100, retried: 0, deadLettered: 0 });
    expect(row!.p50! / 50).toBeGreaterThanOrEqual(1);
    expect(row!.p50! / 50).toBeLessThan(1.25);
    expect(row!.p99! / 99).toBeGreaterThanOrEqual(1);
    expect(row!.p99! / 99).toBeLessThan(1.25);
  });

  it('counts a retried message once per delivery, and dead letters by type', () => {
    const tally = new TypeTally();
    tally.add(retrying('1-0', 1));
    tally.add(retrying('1-0', 2)); // the same message again: not a second retried message
    tally.add({ ...retrying('2-0', 1), type: 'message.scheduled', retryAttempt: 1 } as RuntimeEvent);
    tally.add({ ...retrying('3-0', 3), type: 'message.scheduled', retryAttempt: 1 } as RuntimeEvent); // retried in process already
    tally.add({
      type: 'message.dead-lettered',
      at: 0,
      consumerId: 'c',
      messageId: '4-0',
      messageType: null,
      reason: 'missing-type',
      error: 'no type field',
      deadLetterId: '5-0',
    });
    expect(tally.retriedMessages('c')).toBe(2);
    expect(tally.retriedMessages('other')).toBe(0);
    expect(tally.top('c')).toEqual([
      { type: 't', handled: 0, retried: 2, deadLettered: 0, p50: null, p99: null },
      { type: '(undecoded)', handled: 0, retried: 0, deadLettered: 1, p50: null, p99: null },
    ]);
  });

  it('keeps at most 100 types per consumer and sums the rest', () => {
    const tally = new TypeTally();
    const hook = tally.hook('c');
    for (let i = 0; i < 150; i++) hook(1, `type-${i}`, true);
    const rows = tally.top('c', 1000);
    expect(rows).toHaveLength(101); // 100 types, and the sum of the rest
    expect(rows.find((r) => r.type === '(other types)')?.handled).toBe(50);
  });
});

describe('the runtime feeds the breakdown by type', () => {
  it('reports type and success per handler call, and the type on failure events', async () => {
    const failedOnce = new Set<string>();
    const router = new Router();
    router.on('ok', async () => {});
    router.on('flaky', async (message) => {
      if (!failedOnce.has(message.id)) {
        failedOnce.add(message.id);
        throw new Error('once');
      }
    });
    router.on('poison', async () => {
      throw new NonRetryableError('no');
    });
    const storage = new MemoryStreamStorage();
    const runtime = createRuntime({
      storage,
      router,
      logger: pino({ level: 'silent' }),
      consumers: [
        { id: 'c', stream: 's', group: 'g', blockMs: 20, retry: { backoff: { initialMs: 1, maxMs: 2 } } },
      ],
    });
    const tally = new TypeTally();
    const unsubscribe = runtime.subscribe((event) => tally.add(event));
    const unwatch = watchDurations(runtime.stats('c')!, tally.hook('c'));
    await runtime.start();
    try {
      for (let i = 0; i < 5; i++) await storage.add('s', { type: 'ok', payload: '{}' });
      for (let i = 0; i < 3; i++) await storage.add('s', { type: 'flaky', payload: '{}' });
      await storage.add('s', { type: 'poison', payload: '{}' });
      const deadline = Date.now() + 5000;
      const done = () => {
        const c = runtime.snapshot().consumers[0]!;
        return c.processed === 8 && c.deadLettered === 1;
      };
      while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      const rows = Object.fromEntries(tally.top('c').map((row) => [row.type, row]));
      expect(rows.ok).toMatchObject({ handled: 5, retried: 0, deadLettered: 0 });
      expect(rows.flaky).toMatchObject({ handled: 3, retried: 3, deadLettered: 0 });
      expect(rows.poison).toMatchObject({ handled: 0, retried: 0, deadLettered: 1 });
      expect(rows.ok!.p50).not.toBeNull();
      expect(tally.retriedMessages('c')).toBe(3);
    } finally {
      unwatch();
      unsubscribe();
      await runtime.stop();
    }
  });
});
