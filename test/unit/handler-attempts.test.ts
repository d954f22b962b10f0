import { afterEach, describe, expect, it } from 'vitest';
import {
  ConsumerStoppingError,
  createRuntime,
  HandlerTimeoutError,
  MemoryStreamStorage,
  NonRetryableError,
  Router,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { type Harness, memoryLogger, startHarness, T0, waitUntil } from './retry-support.js';

// One attempt of a message as its handlers see it: what a handler may return, its signal (timeout,
// stop), its logger, the durations the dashboard's histogram records, and how several handlers of one
// type share an attempt.

const backoff = { initialMs: 100, maxMs: 300 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

describe('what a handler returns', () => {
  it('any value that is not a thenable (null, a number, an object) settles the attempt at once', async () => {
    const results: unknown[] = [null, 7, { done: true }, 'ok'];
    h = await startHarness((router) => router.on('t', (message) => results[Number(message.fields.n)]));
    for (let n = 0; n < results.length; n++) await h.add({ type: 't', n: String(n), payload: '{}' });
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ processed: 4, failed: 0 });
  });

  it('a thenable that is not a Promise (an object or a function with `then`) is awaited', async () => {
    const rejecting = (_resolve: unknown, reject: (error: Error) => void) =>
      reject(new Error('thenable says no'));
    // A promise-like of another library.
    // biome-ignore lint/suspicious/noThenProperty: the point of the test
    const thenable = { then: rejecting };
    // biome-ignore lint/suspicious/noThenProperty: the point of the test
    const callableThenable = Object.assign(() => {}, { then: rejecting });
    h = await startHarness(
      (router) => router.on('t', (message) => (message.fields.kind === 'fn' ? callableThenable : thenable)),
      { consumer: { retry: { attempts: 1, backoff } } },
    );
    await h.add({ type: 't', kind: 'object', payload: '{}' });
    await h.add({ type: 't', kind: 'fn', payload: '{}' });
    expect((await h.dead()).map((l) => [l.fields.kind, l.fields['x-dead-error']])).toEqual([
      ['object', 'thenable says no'],
      ['fn', 'thenable says no'],
    ]);
  });
});

describe('several handlers of one type', () => {
  it('a NonRetryableError dead-letters at once: handlers registered after it do not run, an earlier failure does not make it a retry', async () => {
    const calls: string[] = [];
    h = await startHarness(
      (router) => {
        router.on(
          't',
          (message) => {
            calls.push(`a:${message.fields.n}`);
            if (message.fields.n === '2') throw new Error('transient');
          },
          { name: 'a' },
        );
        router.on(
          't',
          (message) => {
            calls.push(`b:${message.fields.n}`);
            throw new NonRetryableError('never valid');
          },
          { name: 'b' },
        );
        router.on('t', (message) => void calls.push(`c:${message.fields.n}`), { name: 'c' });
      },
      { consumer: { retry: { attempts: 5, backoff }, concurrency: 1 } },
    );
    await h.add({ type: 't', n: '1', payload: '{}' });
    await h.add({ type: 't', n: '2', payload: '{}' });
    await h.advance(1000);
    expect(calls).toEqual(['a:1', 'b:1', 'a:2', 'b:2']);
    expect(
      (await h.dead()).map((l) => [l.fields.n, l.fields['x-dead-reason'], l.fields['x-dead-at']]),
    ).toEqual([
      ['1', 'non-retryable', String(T0)],
      ['2', 'non-retryable', String(T0)],
    ]);
    expect(h.events.filter((e) => e.type === 'message.retrying')).toEqual([]);
  });
});

describe('several handlers of one type, on the real clock', () => {
  it('without handlerTimeoutMs no timer cuts them short: handlers of a few ms both succeed', async () => {
    const storage = new MemoryStreamStorage();
    const done: string[] = [];
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const handler = (name: string) => async () => {
      await wait(5);
      done.push(name);
    };
    const router = new Router().on('t', handler('a'), { name: 'a' }).on('t', handler('b'), { name: 'b' });
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        consumers: [{ stream: 's', group: 'g', consumer: 'c', startId: '0' }],
      }),
    );
    await storage.add('s', { type: 't', payload: '{}' });
    await runtime.start();
    await waitUntil(() => runtime.stats('s/g/c')!.processed + runtime.stats('s/g/c')!.failed > 0);
    expect(runtime.stats('s/g/c')).toMatchObject({ processed: 1, failed: 0 });
    expect(done).toEqual(['a', 'b']);
    await runtime.stop();
  });
});

describe('routing a delivery', () => {
  it('filters run once per delivery: a retried message keeps its routes', async () => {
    let filterCalls = 0;
    let handled = 0;
    h = await startHarness(
      (router) =>
        router.on(
          't',
          () => {
            if (handled++ === 0) throw new Error('transient');
          },
          { filter: () => filterCalls++ >= 0 },
        ),
      { consumer: { retry: { attempts: 3, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(100);
    expect([filterCalls, handled]).toEqual([1, 2]);
    expect(await h.pendingIds()).toEqual([]);
  });
});

describe('the signal of an attempt with handlerTimeoutMs', () => {
  it('does not abort later when the handler finished in time', async () => {
    const signals: AbortSignal[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', async (_m, ctx) => {
          signals.push(ctx.signal);
        }),
      { consumer: { handlerTimeoutMs: 200 } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(1000, 50);
    expect(await h.pendingIds()).toEqual([]);
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
  });

  it("a handler's own rejection fails the attempt at once, with its error", async () => {
    h = await startHarness(
      (router) =>
        router.on('t', async () => {
          throw new Error('rejected early');
        }),
      { consumer: { retry: { attempts: 1, backoff }, handlerTimeoutMs: 1000 } },
    );
    await h.add({ type: 't', payload: '{}' });
    expect((await h.dead()).map((l) => [l.fields['x-dead-error'], l.fields['x-dead-at']])).toEqual([
      ['rejected early', String(T0)],
    ]);
  });

  it('once the time is up, the handlers still to run start with it aborted and the attempt fails without waiting for them', async () => {
    const started: Array<{ name: string; at: number; aborted: boolean }> = [];
    h = await startHarness(
      (router) => {
        for (const name of ['a', 'b'])
          router.on(
            't',
            (_m, ctx) => {
              started.push({ name, at: h!.clock.now(), aborted: ctx.signal.aborted });
              return new Promise<void>(() => {}); // ignores the signal
            },
            { name },
          );
      },
      { consumer: { retry: { attempts: 1, backoff }, handlerTimeoutMs: 100 } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(300);
    expect(started).toEqual([
      { name: 'a', at: T0, aborted: false },
      { name: 'b', at: T0 + 100, aborted: true },
    ]);
    const [letter] = await h.dead();
    expect(letter?.fields).toMatchObject({ 'x-dead-at': String(T0 + 100), 'x-dead-reason': 'handler-error' });
    expect(letter?.fields['x-dead-error']).toBe(new HandlerTimeoutError(100).message);
  });
});

describe('a stop', () => {
  /** A promise the test opens by hand. */
  function gate(): { opened: Promise<void>; open: () => void } {
    let open: () => void = () => {};
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { opened, open };
  }

  /** Adds one message, stops with a 100 ms deadline, opens `open` past it and waits for the stop. */
  async function stopPastTheDeadline(harness: Harness, open: () => void): Promise<string> {
    const id = await harness.add({ type: 't', payload: '{}' });
    const stopping = harness.runtime.stop({ timeoutMs: 100 });
    await harness.advance(100);
    open();
    await harness.advance(1000, 100);
    await stopping;
    return id;
  }

  it('a handler that reads ctx.signal only after the stop deadline finds it aborted; the message stays pending', async () => {
    const { opened, open } = gate();
    const seen: unknown[] = [];
    h = await startHarness((router) =>
      router.on('t', async (_m, ctx) => {
        await opened;
        seen.push(ctx.signal.aborted, ctx.signal.reason);
      }),
    );
    const id = await stopPastTheDeadline(h, open);
    expect(seen).toEqual([true, expect.any(ConsumerStoppingError)]);
    expect(await h.pendingIds()).toEqual([id]);
  });

  it('starts no further handler of a message the stop released', async () => {
    const { opened, open } = gate();
    const ran: string[] = [];
    h = await startHarness((router) =>
      router
        .on('t', async () => {
          ran.push('first');
          await opened;
        })
        .on('t', () => {
          ran.push('second');
        }),
    );
    const id = await stopPastTheDeadline(h, open);
    expect(ran).toEqual(['first']);
    expect(await h.pendingIds()).toEqual([id]);
  });
});

describe('logs of an attempt', () => {
  it('a failed attempt is logged at debug with the message id, the attempt and the error', async () => {
    const { logger, records } = memoryLogger();
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new Error('downstream unavailable');
        }),
      { logger, consumer: { retry: { attempts: 2, backoff } } },
    );
    const id = await h.add({ type: 't', payload: '{}' });
    await h.advance(100);
    expect(records.filter((r) => r.msg === 'handler attempt failed')).toEqual([
      expect.objectContaining({
        level: 20,
        messageId: id,
        attempt: 1,
        err: expect.objectContaining({ message: 'downstream unavailable' }),
      }),
      expect.objectContaining({
        level: 20,
        messageId: id,
        attempt: 2,
        err: expect.objectContaining({ message: 'downstream unavailable' }),
      }),
    ]);
  });

  it("ctx.log is bound to the message's id and type", async () => {
    const { logger, records } = memoryLogger();
    h = await startHarness((router) => router.on('booking.confirmed', (_m, ctx) => ctx.log.info('handled')), {
      logger,
    });
    const id = await h.add({ type: 'booking.confirmed', payload: '{}' });
    expect(records.filter((r) => r.msg === 'handled')).toEqual([
      expect.objectContaining({ level: 30, messageId: id, messageType: 'booking.confirmed' }),
    ]);
  });
});

describe('handler durations (ConsumerStats.onHandlerDuration)', () => {
  it('one per handler run, failed runs included, each within the time the test took, on the direct path and with several handlers', async () => {
    const began = performance.now();
    h = await startHarness(
      (router) => {
        router.on('one', () => {});
        router.on('async', async () => {});
        router.on('throws', () => {
          throw new Error('sync failure');
        });
        router.on('rejects', async () => {
          throw new Error('async failure');
        });
        router.on('two', () => {}, { name: 'first' });
        router.on('two', async () => {}, { name: 'second' });
      },
      { consumer: { retry: { attempts: 1, backoff } } },
    );
    const durations: number[] = [];
    h.runtime.stats('s/g/c1')!.onHandlerDuration = (ms) => durations.push(ms);
    await h.add({ type: 'one', payload: '{}' });
    await h.add({ type: 'async', payload: '{}' });
    await h.add({ type: 'throws', payload: '{}' });
    await h.add({ type: 'rejects', payload: '{}' });
    await h.add({ type: 'two', payload: '{}' });
    const elapsed = performance.now() - began;
    expect(await h.pendingIds()).toEqual([]);
    expect(durations).toHaveLength(6);
    for (const ms of durations) {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(elapsed);
    }
  });
});
