import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  MemoryRetryScheduler,
  MemoryStreamStorage,
  NonRetryableError,
  type RetryScheduler,
  type RuntimeEvent,
  retryKey,
  scheduledAttempts,
} from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, T0 } from './retry-support.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

// In process: 75 ms between attempts. Scheduled attempt n waits 0.75·min(10 s, 1 s·2^(n-1)).
const retry = {
  attempts: 2,
  backoff: { initialMs: 100, maxMs: 1000 },
  scheduled: { attempts: 2, backoff: { initialMs: 1000, maxMs: 10_000 } },
};

function scheduledEvents(events: RuntimeEvent[]) {
  return events.filter((e) => e.type === 'message.scheduled');
}

describe('durable retries through a RetryScheduler (memory)', () => {
  it('schedules with a growing delay and x-retry-attempt, then dead-letters past retry.scheduled.attempts', async () => {
    const calls: string[] = [];
    let scheduler: MemoryRetryScheduler | undefined;
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          calls.push(`${h!.clock.now() - T0}:${m.fields['x-retry-attempt'] ?? '-'}#${ctx.attempt}`);
          throw new Error('still failing');
        }),
      {
        consumer: { retry },
        retryScheduler: (storage, clock) => {
          scheduler = new MemoryRetryScheduler({ storage, clock });
          return scheduler;
        },
      },
    );
    const first = await h.add({ type: 't', payload: '{}' });
    await h.advance(75);
    expect(calls).toEqual(['0:-#1', '75:-#2']);
    // Handed over and acked: nothing pending, due in 750 ms.
    expect(await h.pendingIds()).toEqual([]);
    expect(scheduler!.dueTimes('s')).toEqual([T0 + 75 + 750]);
    expect(scheduledEvents(h.events)).toEqual([
      {
        type: 'message.scheduled',
        at: T0 + 75,
        consumerId: 's/g/c1',
        messageId: first,
        messageType: 't',
        attempt: 2,
        retryAttempt: 1,
        delayMs: 750,
        error: 'still failing',
        inPlace: false,
      },
    ]);
    await h.advance(749);
    expect(calls).toHaveLength(2);
    await h.advance(1);
    expect(calls.slice(2)).toEqual(['825:1#1']);
    await h.advance(75);
    expect(calls.slice(3)).toEqual(['900:1#2']);
    expect(scheduler!.dueTimes('s')).toEqual([T0 + 900 + 1500]);
    expect(scheduledEvents(h.events).map((e) => (e as { delayMs: number }).delayMs)).toEqual([750, 1500]);
    await h.advance(1575);
    expect(calls.slice(4)).toEqual(['2400:2#1', '2475:2#2']);
    const dead = await h.dead();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.fields).toMatchObject({
      type: 't',
      payload: '{}',
      'x-retry-attempt': '2',
      'x-dead-reason': 'handler-error',
      'x-dead-error': 'still failing',
      'x-source-stream': 's',
      'x-dead-at': String(T0 + 2475),
    });
    expect(scheduler!.size).toBe(0);
    expect(await h.storage.length('s')).toBe(3);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({
      processed: 0,
      failed: 6,
      retried: 3,
      scheduled: 2,
      deadLettered: 1,
      deadLetteredByReason: { 'handler-error': 1 },
    });
  });

  it('a message that succeeds on its scheduled re-delivery is acked once, ctx.attempt from 1 again', async () => {
    const attempts: Array<[string | undefined, number]> = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          attempts.push([m.fields['x-retry-attempt'], ctx.attempt]);
          if (m.fields['x-retry-attempt'] === undefined) throw new Error('first time fails');
        }),
      {
        consumer: { retry },
        retryScheduler: (storage, clock) => new MemoryRetryScheduler({ storage, clock }),
      },
    );
    await h.add({ type: 't', payload: '{"k":1}', 'x-trace': 'z' });
    await h.advance(825);
    expect(attempts).toEqual([
      [undefined, 1],
      [undefined, 2],
      ['1', 1],
    ]);
    const entries = await h.storage.range('s');
    expect(entries.map((e) => e.fields)).toEqual([
      { type: 't', payload: '{"k":1}', 'x-trace': 'z' },
      { type: 't', payload: '{"k":1}', 'x-trace': 'z', 'x-retry-attempt': '1' },
    ]);
    expect(await h.pendingIds()).toEqual([]);
    expect(await h.dead()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ processed: 1, scheduled: 1 });
  });

  it('NonRetryableError and bad input bypass the scheduler', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new NonRetryableError('never');
        }),
      {
        consumer: { retry },
        retryScheduler: (storage, clock) => new MemoryRetryScheduler({ storage, clock }),
      },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.add({ type: 't', payload: 'nope' });
    expect((await h.dead()).map((l) => l.fields['x-dead-reason'])).toEqual([
      'non-retryable',
      'malformed-payload',
    ]);
    expect(h.runtime.snapshot().consumers[0]!.scheduled).toBe(0);
  });

  it('a scheduler that fails dead-letters the message (handler-error) instead of losing it', async () => {
    const failing: RetryScheduler = {
      schedule: () => Promise.reject(new Error('scheduler down')),
    };
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new Error('handler failed');
        }),
      { consumer: { retry }, retryScheduler: () => failing },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(75);
    expect((await h.dead()).map((l) => [l.fields['x-dead-reason'], l.fields['x-dead-error']])).toEqual([
      ['handler-error', 'handler failed'],
    ]);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('retry.scheduled.attempts: 0 never schedules', async () => {
    let scheduled = 0;
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new Error('x');
        }),
      {
        consumer: { retry: { ...retry, scheduled: { attempts: 0 } } },
        retryScheduler: () => ({
          schedule: async () => {
            scheduled++;
          },
        }),
      },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(75);
    expect(scheduled).toBe(0);
    expect((await h.dead()).map((l) => l.fields['x-dead-reason'])).toEqual(['handler-error']);
  });

  it('the scheduler hears of the streams at start and is closed at stop', async () => {
    const started: string[][] = [];
    let closed = 0;
    h = await startHarness((router) => router.on('t', () => {}), {
      retryScheduler: () => ({
        schedule: async () => {},
        start: (streams) => void started.push([...streams]),
        close: async () => void closed++,
      }),
    });
    expect(started).toEqual([['s']]);
    await h.stop();
    h = undefined;
    expect(closed).toBe(1);
  });
});

describe('MemoryRetryScheduler', () => {
  it('re-adds a message once even when the same entry is scheduled twice', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const storage = new MemoryStreamStorage({ clock });
    const scheduler = new MemoryRetryScheduler({ storage, clock });
    const entry = { id: '1-0', fields: { type: 't', 'x-retry-attempt': '1' }, deliveries: 1 };
    await scheduler.schedule('s', entry, 100);
    await scheduler.schedule('s', entry, 200);
    clock.increment(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await storage.range('s')).map((e) => e.fields)).toEqual([entry.fields]);
    await scheduler.close();
  });
});

describe('retryKey and x-retry-attempt', () => {
  it('keeps the sorted set in the stream’s Cluster slot', () => {
    expect(retryKey('orders')).toBe('{orders}:retry');
    expect(retryKey('orders:{7}')).toBe('orders:{7}:retry');
    expect(retryKey('{bot}:events')).toBe('{bot}:events:retry');
    expect(retryKey('a{b')).toBe('{a{b}:retry');
    expect(() => retryKey('a{}b')).toThrow(TypeError); // an empty tag: the whole name is hashed
    expect(() => retryKey('a}b')).toThrow(TypeError);
    expect(() => retryKey('')).toThrow(TypeError);
  });

  it('reads x-retry-attempt, 0 when absent or not a count', () => {
    const entry = (value?: string) => ({
      id: '1-0',
      fields: value === undefined ? { type: 't' } : { type: 't', 'x-retry-attempt': value },
      deliveries: 1,
    });
    expect(scheduledAttempts(entry())).toBe(0);
    expect(scheduledAttempts(entry('3'))).toBe(3);
    expect(scheduledAttempts(entry('-1'))).toBe(0);
    expect(scheduledAttempts(entry('x'))).toBe(0);
  });
});
