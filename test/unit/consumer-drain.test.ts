import { afterEach, describe, expect, it } from 'vitest';
import { ConsumerStoppingError } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, heldHandler, memoryLogger, startHarness } from './retry-support.js';

// How a consumer drains on stop: handlers get until the deadline, then their signal aborts (one
// warning says how many), and handlers that ignore the abort get a short grace before the consumer
// ends anyway; every message that did not finish stays pending.

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

/** Stop with `timeoutMs`, moving the clock in steps of `step`; resolves the simulated ms the stop took. */
async function timedStop(harness: Harness, timeoutMs: number, step = 50): Promise<number> {
  const from = harness.clock.now();
  let stoppedAt: number | null = null;
  const stopping = harness.runtime.stop({ timeoutMs }).then(() => {
    stoppedAt = harness.clock.now();
  });
  await harness.flush();
  for (let i = 0; i < 1000 && stoppedAt === null; i++) await harness.advance(step, step);
  await stopping;
  return stoppedAt! - from;
}

describe('draining on stop', () => {
  it('at the deadline, warns once with the number of messages in flight and aborts their handlers; the messages stay pending', async () => {
    const { logger, records } = memoryLogger();
    const reasons: unknown[] = [];
    h = await startHarness(
      (router) =>
        router.on(
          't',
          (_m, ctx) =>
            new Promise<void>((_resolve, reject) =>
              ctx.signal.addEventListener('abort', () => {
                reasons.push(ctx.signal.reason);
                reject(ctx.signal.reason);
              }),
            ),
        ),
      { logger },
    );
    const ids = [await h.add({ type: 't', payload: '{}' }), await h.add({ type: 't', payload: '{}' })];
    expect(await timedStop(h, 500)).toBe(500);
    expect(reasons).toEqual([expect.any(ConsumerStoppingError), expect.any(ConsumerStoppingError)]);
    expect(records.filter((r) => (r.level as number) >= 40)).toEqual([
      expect.objectContaining({
        level: 40,
        inFlight: 2,
        msg: 'stop deadline reached; aborting handlers, their messages stay pending',
      }),
    ]);
    expect((await h.pendingIds()).sort()).toEqual(ids.sort());
  });

  it('a handler that ignores the abort holds the stop at most min(1 s, timeoutMs) past the deadline', async () => {
    h = await startHarness((router) => router.on('t', () => new Promise<void>(() => {})));
    await h.add({ type: 't', payload: '{}' });
    expect(await timedStop(h, 300)).toBe(600);
  });

  it('so does one of several handlers of a type', async () => {
    h = await startHarness((router) => {
      router.on('t', () => {}, { name: 'quick' });
      router.on('t', () => new Promise<void>(() => {}), { name: 'stuck' });
    });
    await h.add({ type: 't', payload: '{}' });
    expect(await timedStop(h, 300)).toBe(600);
  });

  it('messages queued for a worker never start and do not hold the stop', async () => {
    const { logger, records } = memoryLogger();
    const { started, finish, handler } = heldHandler();
    h = await startHarness((router) => router.on('t', handler), {
      logger,
      consumer: { concurrency: 1, prefetch: 2 },
    });
    const ids = [
      await h.add({ type: 't', payload: '{}' }),
      await h.add({ type: 't', payload: '{}' }),
      await h.add({ type: 't', payload: '{}' }),
    ];
    expect(started).toEqual([ids[0]]);
    const from = h.clock.now();
    const stopping = h.runtime.stop({ timeoutMs: 10_000 });
    await h.advance(100, 50);
    finish();
    await h.flush();
    await stopping;
    expect(h.clock.now() - from).toBe(100);
    expect(started).toEqual([ids[0]]);
    expect(await h.pendingIds()).toEqual(ids.slice(1));
    expect(records.filter((r) => (r.level as number) >= 40)).toEqual([]);
  });

  it('with a long deadline the grace after the abort is 1 s', async () => {
    h = await startHarness((router) => router.on('t', () => new Promise<void>(() => {})));
    const id = await h.add({ type: 't', payload: '{}' });
    expect(await timedStop(h, 3000, 100)).toBe(4000);
    expect(await h.pendingIds()).toEqual([id]);
  });

  it('waits for every handler, not the first to settle', async () => {
    const { logger, records } = memoryLogger();
    const finish: Array<() => void> = [];
    h = await startHarness(
      (router) => router.on('t', () => new Promise<void>((resolve) => finish.push(resolve))),
      { logger },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.add({ type: 't', payload: '{}' });
    const from = h.clock.now();
    const stopping = h.runtime.stop({ timeoutMs: 10_000 });
    await h.advance(100, 50);
    finish.shift()!();
    await h.advance(100, 50);
    expect(h.runtime.status).toBe('stopping');
    finish.shift()!();
    await h.flush();
    await stopping;
    expect(h.clock.now() - from).toBe(200);
    expect(records.filter((r) => (r.level as number) >= 40)).toEqual([]);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('entries a read returns after the stop began are left pending: they never start and do not hold the stop', async () => {
    const { logger, records } = memoryLogger();
    const { started, finish, handler } = heldHandler();
    h = await startHarness((router) => router.on('t', handler), { logger });
    const first = await h.add({ type: 't', payload: '{}' });
    const from = h.clock.now();
    const stopping = h.runtime.stop({ timeoutMs: 10_000 });
    await h.flush();
    // The consumer's read was blocked waiting for entries: this one arrives while it drains.
    const late = await h.add({ type: 't', payload: '{}' });
    await h.advance(100, 50);
    finish();
    await h.flush();
    await stopping;
    expect(h.clock.now() - from).toBe(100);
    expect(started).toEqual([first]);
    expect(await h.pendingIds()).toEqual([late]);
    expect(records.filter((r) => (r.level as number) >= 40)).toEqual([]);
  });

  it('ends as soon as the last handler settles, without waiting for the deadline, and warns of nothing', async () => {
    const { logger, records } = memoryLogger();
    const { finish, handler } = heldHandler();
    h = await startHarness((router) => router.on('t', handler), { logger });
    await h.add({ type: 't', payload: '{}' });
    const from = h.clock.now();
    const stopping = h.runtime.stop({ timeoutMs: 10_000 });
    await h.advance(200, 50);
    expect(h.runtime.status).toBe('stopping');
    finish();
    await h.flush();
    await stopping;
    expect(h.clock.now() - from).toBe(200);
    expect(records.filter((r) => (r.level as number) >= 40)).toEqual([]);
    expect(await h.pendingIds()).toEqual([]);
  });
});

describe('a message waiting for its next attempt', () => {
  it('is released at the stop deadline: the stop ends then, the attempt never runs, the message stays pending', async () => {
    let calls = 0;
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          calls++;
          throw new Error('downstream unavailable');
        }),
      { consumer: { retry: { attempts: 3, backoff: { initialMs: 10_000, maxMs: 10_000 } } } },
    );
    const id = await h.add({ type: 't', payload: '{}' });
    expect(h.runtime.snapshot().consumers[0]!.workers[0]).toMatchObject({ state: 'retrying' });
    expect(await timedStop(h, 500)).toBe(500);
    await h.advance(10_000, 1000);
    expect(calls).toBe(1);
    expect(await h.pendingIds()).toEqual([id]);
  });
});
