import { afterEach, describe, expect, it } from 'vitest';
import { HandlerTimeoutError, MemoryStreamStorage, NonRetryableError } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, storageAtT0, T0 } from './retry-support.js';

// Delays with random() = 0.5 and equal jitter: step·0.75, step = min(maxMs, initialMs·2^(n-1)).
const backoff = { initialMs: 100, maxMs: 300 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

function retryEvents(harness: Harness) {
  return harness.events.filter((e) => e.type === 'message.retrying');
}

describe('in-process retries', () => {
  it('retries after 75, 150 and 225 ms (capped), counting ctx.attempt from 1, then acks once', async () => {
    const calls: Array<{ at: number; attempt: number }> = [];
    h = await startHarness(
      (router) =>
        router.on('t', (_m, ctx) => {
          calls.push({ at: h!.clock.now() - T0, attempt: ctx.attempt });
          if (ctx.attempt < 4) throw new Error(`boom ${ctx.attempt}`);
        }),
      { consumer: { retry: { attempts: 4, backoff } } },
    );
    const id = await h.add({ type: 't', payload: '{}' });
    await h.advance(74);
    expect(calls).toEqual([{ at: 0, attempt: 1 }]);
    await h.advance(1);
    expect(calls.map((c) => c.at)).toEqual([0, 75]);
    await h.advance(1000);
    expect(calls).toEqual([
      { at: 0, attempt: 1 },
      { at: 75, attempt: 2 },
      { at: 225, attempt: 3 },
      { at: 450, attempt: 4 },
    ]);
    expect(await h.pendingIds()).toEqual([]);
    expect(await h.dead()).toEqual([]);
    expect(retryEvents(h)).toEqual([
      {
        type: 'message.retrying',
        at: T0,
        consumerId: 's/g/c1',
        messageId: id,
        messageType: 't',
        attempt: 1,
        delayMs: 75,
        error: 'boom 1',
      },
      {
        type: 'message.retrying',
        at: T0 + 75,
        consumerId: 's/g/c1',
        messageId: id,
        messageType: 't',
        attempt: 2,
        delayMs: 150,
        error: 'boom 2',
      },
      {
        type: 'message.retrying',
        at: T0 + 225,
        consumerId: 's/g/c1',
        messageId: id,
        messageType: 't',
        attempt: 3,
        delayMs: 225,
        error: 'boom 3',
      },
    ]);
    const snap = h.runtime.snapshot().consumers[0]!;
    expect(snap).toMatchObject({ processed: 1, failed: 3, retried: 3, deadLettered: 0 });
  });

  it('shows the worker in `retrying` with its attempt while it waits', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new Error('no');
        }),
      { consumer: { retry: { attempts: 2, backoff }, concurrency: 1 } },
    );
    const id = await h.add({ type: 't', payload: '{}' });
    expect(h.runtime.snapshot().consumers[0]!.workers[0]).toEqual({
      id: 'w0',
      state: 'retrying',
      messageId: id,
      batchSize: null,
      attempt: 1,
    });
    expect(h.runtime.snapshot().consumers[0]!.inFlight).toBe(1);
  });

  it('dead-letters with handler-error after the last attempt, then acks the source', async () => {
    let calls = 0;
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          calls++;
          throw new Error(`failure ${calls}`);
        }),
      { consumer: { retry: { attempts: 3, backoff } } },
    );
    const id = await h.add({ type: 't', payload: '{"a":1}', 'x-trace': 'abc' });
    await h.advance(224);
    expect(calls).toBe(2);
    await h.advance(1);
    expect(calls).toBe(3);
    expect(await h.dead()).toEqual([
      {
        id: expect.any(String),
        fields: {
          type: 't',
          payload: '{"a":1}',
          'x-trace': 'abc',
          'x-dead-reason': 'handler-error',
          'x-dead-error': 'failure 3',
          'x-source-stream': 's',
          'x-source-id': id,
          'x-group': 'g',
          'x-deliveries': '1',
          'x-dead-at': String(T0 + 225),
        },
      },
    ]);
    expect(await h.pendingIds()).toEqual([]);
    const dead = h.events.filter((e) => e.type === 'message.dead-lettered');
    expect(dead).toEqual([
      {
        type: 'message.dead-lettered',
        at: T0 + 225,
        consumerId: 's/g/c1',
        messageId: id,
        messageType: 't',
        reason: 'handler-error',
        error: 'failure 3',
        deadLetterId: (await h.dead())[0]!.id,
      },
    ]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({
      processed: 0,
      failed: 3,
      retried: 2,
      deadLettered: 1,
      deadLetteredByReason: { 'handler-error': 1 },
    });
  });

  it('a message that succeeded on a retry ends its busy period: the one queued behind it gets every attempt', async () => {
    const calls: string[] = [];
    // One worker and one message read ahead: b waits behind a, which fails once, then succeeds at its
    // retry (75 ms later).
    const { clock, storage } = storageAtT0((c) => new MemoryStreamStorage({ clock: c }));
    await storage.add('s', { type: 't', payload: '{"name":"a"}' });
    const b = await storage.add('s', { type: 't', payload: '{"name":"b"}' });
    h = await startHarness(
      (router) =>
        router.on('t', (message, ctx) => {
          const name = (message.payload as { name: string }).name;
          calls.push(`${name}@${ctx.attempt}`);
          if (name === 'b' || ctx.attempt === 1) throw new Error(`${name} failed`);
        }),
      { clock, storage, consumer: { concurrency: 1, prefetch: 1, retry: { attempts: 3, backoff } } },
    );
    await h.advance(1000);
    expect(calls).toEqual(['a@1', 'a@2', 'b@1', 'b@2', 'b@3']);
    expect((await h.dead()).map((entry) => entry.fields['x-source-id'])).toEqual([b]);
    expect(retryEvents(h).map((e) => e.type === 'message.retrying' && e.attempt)).toEqual([1, 1, 2]);
  });

  it('re-runs only the handlers that failed; those that succeeded are not called again', async () => {
    const calls: string[] = [];
    h = await startHarness(
      (router) => {
        router.on('t', (_m, ctx) => void calls.push(`a${ctx.attempt}`), { name: 'a' });
        router.on(
          't',
          (_m, ctx) => {
            calls.push(`b${ctx.attempt}`);
            if (ctx.attempt < 3) throw new Error('b fails');
          },
          { name: 'b' },
        );
        router.on(
          't',
          (_m, ctx) => {
            calls.push(`c${ctx.attempt}`);
            if (ctx.attempt < 2) throw new Error('c fails');
          },
          { name: 'c' },
        );
      },
      { consumer: { retry: { attempts: 3, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(500);
    expect(calls).toEqual(['a1', 'b1', 'c1', 'b2', 'c2', 'b3']);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ processed: 1, failed: 2, retried: 2 });
  });

  it('dead-letters a NonRetryableError at once (reason non-retryable), without retrying', async () => {
    let calls = 0;
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          calls++;
          throw new NonRetryableError('order 7 does not exist');
        }),
      { consumer: { retry: { attempts: 5, backoff } } },
    );
    const id = await h.add({ type: 't', payload: '{}' });
    await h.advance(1000);
    expect(calls).toBe(1);
    const [letter] = await h.dead();
    expect(letter?.fields).toMatchObject({
      'x-dead-reason': 'non-retryable',
      'x-dead-error': 'order 7 does not exist',
      'x-source-id': id,
      'x-dead-at': String(T0),
    });
    expect(retryEvents(h)).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({
      failed: 0,
      retried: 0,
      deadLetteredByReason: { 'non-retryable': 1 },
    });
  });

  it('a NonRetryableError on a later attempt dead-letters then', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', (_m, ctx) => {
          if (ctx.attempt === 1) throw new Error('transient');
          throw new NonRetryableError('now permanent');
        }),
      { consumer: { retry: { attempts: 5, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(1000);
    const letters = await h.dead();
    expect(letters.map((l) => [l.fields['x-dead-reason'], l.fields['x-dead-at']])).toEqual([
      ['non-retryable', String(T0 + 75)],
    ]);
  });

  it('retry.attempts: 1 dead-letters on the first failure', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new Error('once');
        }),
      { consumer: { retry: { attempts: 1, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    expect((await h.dead()).map((l) => l.fields['x-dead-reason'])).toEqual(['handler-error']);
    expect(retryEvents(h)).toEqual([]);
  });
});

describe('handlerTimeoutMs', () => {
  it('aborts ctx.signal at the timeout and counts a failed attempt; the retry can succeed', async () => {
    const seen: Array<{ attempt: number; reason: unknown }> = [];
    h = await startHarness(
      (router) =>
        router.on('t', (_m, ctx) => {
          if (ctx.attempt === 2) return;
          return new Promise<void>((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => {
              seen.push({ attempt: ctx.attempt, reason: ctx.signal.reason });
              reject(ctx.signal.reason);
            });
          });
        }),
      { consumer: { retry: { attempts: 2, backoff }, handlerTimeoutMs: 500 } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(499);
    expect(seen).toEqual([]);
    await h.advance(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.reason).toBeInstanceOf(HandlerTimeoutError);
    const retry = retryEvents(h);
    expect(retry).toMatchObject([{ attempt: 1, delayMs: 75, at: T0 + 500 }]);
    expect((retry[0] as { error: string }).error).toMatch(/handlerTimeoutMs 500/);
    await h.advance(75);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ processed: 1, failed: 1, retried: 1 });
  });

  it('a handler that ignores the signal still fails the attempt at the timeout', async () => {
    h = await startHarness((router) => router.on('t', () => new Promise<void>(() => {})), {
      consumer: { retry: { attempts: 1, backoff }, handlerTimeoutMs: 200 },
    });
    await h.add({ type: 't', payload: '{}' });
    await h.advance(200);
    const [letter] = await h.dead();
    expect(letter?.fields['x-dead-reason']).toBe('handler-error');
    expect(letter?.fields['x-dead-error']).toMatch(/handlerTimeoutMs 200/);
    expect(letter?.fields['x-dead-at']).toBe(String(T0 + 200));
  });
});

describe('a filter that throws', () => {
  it('fails the attempt and is retried like a handler', async () => {
    let filterCalls = 0;
    let handled = 0;
    h = await startHarness(
      (router) =>
        router.on('t', () => void handled++, {
          filter: () => {
            filterCalls++;
            if (filterCalls === 1) throw new Error('flag service down');
            return true;
          },
        }),
      { consumer: { retry: { attempts: 2, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    expect(retryEvents(h)).toMatchObject([{ attempt: 1, error: 'Filter failed: flag service down' }]);
    await h.advance(75);
    expect([filterCalls, handled]).toEqual([2, 1]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ processed: 1, failed: 1, retried: 1 });
  });
});
