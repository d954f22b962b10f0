import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRetryScheduler, type Message, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, type HarnessOptions, startHarness, T0 } from './retry-support.js';

// Ordered retries keep their place: with `orderingKey` and a retry scheduler, a message past its
// in-process attempts is retried in place (pending, holding its key) after the durable backoff,
// instead of being acked and re-added at the end of the stream. (Crash and restart:
// retry-in-place-restart.test.ts; on Redis: test/integration/retry-in-place-redis.test.ts.)

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

const byKey = (message: Message) => (message.payload as { key?: string }).key;
// In process: 75 ms between attempts. Scheduled attempt n waits 0.75·min(10 s, 1 s·2^(n-1)).
const retry = {
  attempts: 2,
  backoff: { initialMs: 100, maxMs: 1000 },
  scheduled: { attempts: 2, backoff: { initialMs: 1000, maxMs: 10_000 } },
};

let scheduler: MemoryRetryScheduler | undefined;
const withScheduler: Pick<HarnessOptions, 'retryScheduler'> = {
  retryScheduler: (storage, clock) => {
    scheduler = new MemoryRetryScheduler({ storage, clock });
    return scheduler;
  },
};

/** `a1` style labels: key and n of the payload, the `x-retry-attempt` header and `ctx.attempt`. */
function label(m: Message, attempt: number): string {
  const { key, n } = m.payload as { key: string; n: number };
  return `${key}${n}:${m.fields['x-retry-attempt'] ?? '-'}#${attempt}`;
}

function keysWaiting(harness: Harness): number | undefined {
  return harness.runtime.snapshot().consumers[0]?.keysWaiting;
}

const scheduled = (events: RuntimeEvent[]) => events.filter((e) => e.type === 'message.scheduled');

describe('ordered retries in place', () => {
  it('later messages of the key run only after the failing one succeeded, at the durable backoff; other keys run meanwhile', async () => {
    const log: string[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          log.push(`${label(m, ctx.attempt)}@${h!.clock.now() - T0}`);
          const { key, n } = m.payload as { key: string; n: number };
          if (key === 'a' && n === 1 && m.fields['x-retry-attempt'] !== '2') throw new Error('not yet');
        }),
      { consumer: { orderingKey: byKey, concurrency: 8, retry }, ...withScheduler },
    );
    const a1 = await h.add({ type: 't', payload: '{"key":"a","n":1}' });
    const a2 = await h.add({ type: 't', payload: '{"key":"a","n":2}' });
    const a3 = await h.add({ type: 't', payload: '{"key":"a","n":3}' });
    await h.add({ type: 't', payload: '{"key":"b","n":1}' });
    expect(log).toEqual(['a1:-#1@0', 'b1:-#1@0']);
    await h.advance(75);
    expect(log.slice(2)).toEqual(['a1:-#2@75']);
    // Not handed to the scheduler, not acked: a1 waits in place, a2 and a3 behind it.
    expect(scheduler!.size).toBe(0);
    expect(await h.pendingIds()).toEqual([a1, a2, a3]);
    expect(keysWaiting(h)).toBe(1);
    expect(scheduled(h.events)).toEqual([
      expect.objectContaining({ messageId: a1, retryAttempt: 1, delayMs: 750, inPlace: true }),
    ]);
    // Another key still runs at once while a's key waits.
    await h.add({ type: 't', payload: '{"key":"b","n":2}' });
    expect(log.slice(3)).toEqual(['b2:-#1@75']);
    await h.advance(749);
    expect(log).toHaveLength(4);
    await h.advance(1);
    expect(log.slice(4)).toEqual(['a1:1#1@825']);
    await h.advance(75);
    expect(log.slice(5)).toEqual(['a1:1#2@900']);
    expect(scheduled(h.events).map((e) => (e as { delayMs: number }).delayMs)).toEqual([750, 1500]);
    await h.advance(1499);
    expect(log).toHaveLength(6);
    await h.advance(1);
    expect(log.slice(6)).toEqual(['a1:2#1@2400', 'a2:-#1@2400', 'a3:-#1@2400']);
    expect(await h.pendingIds()).toEqual([]);
    // Nothing was re-added to the stream: the retries were the same entry.
    expect(await h.storage.length('s')).toBe(5);
    expect(keysWaiting(h)).toBe(0);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ processed: 5, scheduled: 2, deadLettered: 0 });
  });

  it('once the failing message is dead-lettered, the next message of its key runs', async () => {
    const log: string[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          log.push(`${label(m, ctx.attempt)}@${h!.clock.now() - T0}`);
          if ((m.payload as { n: number }).n === 1) throw new Error('always');
        }),
      {
        consumer: { orderingKey: byKey, retry: { ...retry, scheduled: { ...retry.scheduled, attempts: 1 } } },
        ...withScheduler,
      },
    );
    const a1 = await h.add({ type: 't', payload: '{"key":"a","n":1}' });
    await h.add({ type: 't', payload: '{"key":"a","n":2}' });
    await h.advance(899);
    expect(log).toEqual(['a1:-#1@0', 'a1:-#2@75', 'a1:1#1@825']);
    await h.advance(1);
    expect(log.slice(3)).toEqual(['a1:1#2@900', 'a2:-#1@900']);
    const dead = await h.dead();
    expect(dead.map((d) => d.fields)).toEqual([
      expect.objectContaining({
        payload: '{"key":"a","n":1}',
        'x-retry-attempt': '1',
        'x-dead-reason': 'handler-error',
        'x-source-id': a1,
        'x-deliveries': '1',
      }),
    ]);
    expect(await h.pendingIds()).toEqual([]);
    expect(keysWaiting(h)).toBe(0);
  });

  it('retrying in place adds no delivery: maxDeliveries does not dead-letter it, and it stays owned', async () => {
    const calls: string[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          calls.push(label(m, ctx.attempt));
          if (m.fields['x-retry-attempt'] !== '3') throw new Error('not yet');
        }),
      {
        consumer: {
          orderingKey: byKey,
          claim: { minIdleMs: 1000, intervalMs: 500 },
          deadLetter: { maxDeliveries: 1 },
          retry: {
            ...retry,
            attempts: 1,
            scheduled: { attempts: 3, backoff: { initialMs: 4000, maxMs: 4000 } },
          },
        },
        ...withScheduler,
      },
    );
    const a1 = await h.add({ type: 't', payload: '{"key":"a","n":1}' });
    // 3 s (each scheduled delay) · 3, checking every 500 ms that nobody can claim a1 and its count stays 1.
    for (let t = 0; t < 9000; t += 500) {
      await h.advance(500, 50);
      const other = await h.storage.autoClaim('s', 'g', 'other', {
        minIdleMs: 1000,
        count: 10,
        cursor: '0-0',
      });
      expect(other.entries).toEqual([]);
      const pending = await h.storage.pending('s', 'g', { count: 10 });
      // Pending, owned by c1, delivered once, all along (until it succeeds at 9 s).
      if (t < 8500)
        expect(pending).toEqual([expect.objectContaining({ id: a1, consumer: 'c1', deliveries: 1 })]);
    }
    expect(calls).toEqual(['a1:-#1', 'a1:1#1', 'a1:2#1', 'a1:3#1']);
    expect(await h.dead()).toEqual([]);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('a key waiting in place does not stop the reads: other keys flow past a full key queue', async () => {
    const handled: string[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          const { key, n } = m.payload as { key: string; n: number };
          if (key === 'a' && n === 1 && m.fields['x-retry-attempt'] === undefined) throw new Error('once');
          handled.push(label(m, ctx.attempt));
        }),
      { consumer: { orderingKey: byKey, concurrency: 1, prefetch: 0, retry }, ...withScheduler },
    );
    for (let n = 1; n <= 5; n++) await h.add({ type: 't', payload: `{"key":"a","n":${n}}` });
    await h.advance(75);
    // One worker, no read-ahead: five messages of a held while a1 waits; b still gets read and run.
    for (let n = 1; n <= 10; n++) await h.add({ type: 't', payload: `{"key":"b","n":${n}}` });
    expect(handled).toEqual(Array.from({ length: 10 }, (_, i) => `b${i + 1}:-#1`));
    await h.advance(750);
    expect(handled.slice(10)).toEqual(['a1:1#1', 'a2:-#1', 'a3:-#1', 'a4:-#1', 'a5:-#1']);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('past 1,000 messages waiting behind failures, the consumer stops reading until the key moves on', async () => {
    const handled: string[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          const { key, n } = m.payload as { key: string; n: number };
          if (key === 'a' && n === 1 && m.fields['x-retry-attempt'] === undefined) throw new Error('once');
          handled.push(label(m, ctx.attempt));
        }),
      { consumer: { orderingKey: byKey, concurrency: 1, prefetch: 0, retry }, ...withScheduler },
    );
    for (let n = 1; n <= 1100; n++) await h.storage.add('s', { type: 't', payload: `{"key":"a","n":${n}}` });
    await h.add({ type: 't', payload: '{"key":"b","n":1}' });
    await h.advance(75);
    for (let i = 0; i < 30; i++) await h.flush();
    expect(handled).toEqual([]);
    await h.advance(750);
    for (let i = 0; i < 40 && handled.length < 1101; i++) await h.flush();
    expect(handled).toHaveLength(1101);
    expect(handled.slice(0, 2)).toEqual(['a1:1#1', 'a2:-#1']);
    expect(handled.indexOf('b1:-#1')).toBeGreaterThan(1000);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('counts each key held by a failing message', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', (m) => {
          if ((m.payload as { n: number }).n === 1 && m.fields['x-retry-attempt'] === undefined)
            throw new Error('once');
        }),
      { consumer: { orderingKey: byKey, retry }, ...withScheduler },
    );
    await h.add({ type: 't', payload: '{"key":"a","n":1}' });
    await h.add({ type: 't', payload: '{"key":"b","n":1}' });
    await h.add({ type: 't', payload: '{"key":"c","n":2}' });
    expect(keysWaiting(h)).toBe(2);
    await h.advance(75);
    expect(keysWaiting(h)).toBe(2);
    await h.advance(750);
    expect(keysWaiting(h)).toBe(0);
  });

  it('a message without a key still goes through the durable scheduler', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', (m) => {
          if (m.fields['x-retry-attempt'] === undefined) throw new Error('once');
        }),
      { consumer: { orderingKey: byKey, retry }, ...withScheduler },
    );
    await h.add({ type: 't', payload: '{"n":1}' });
    await h.advance(75);
    expect(scheduler!.size).toBe(1);
    expect(await h.pendingIds()).toEqual([]);
    expect(scheduled(h.events)).toEqual([expect.objectContaining({ inPlace: false })]);
    await h.advance(750);
    expect(await h.storage.length('s')).toBe(2);
  });
});
