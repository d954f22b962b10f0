import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { TURN_BUDGET } from '../../src/actors/dispatch/turn-budget.js';
import { createRuntime, MemoryStreamStorage, Router } from '../../src/index.js';
import { waitUntil } from './retry-support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `total` messages at concurrency 4; returns which workers received `run` and the peak of handlers at once. */
async function drain(
  handler: () => unknown,
  total: number,
  isAsync: boolean,
  onDuration?: (ms: number) => void,
): Promise<{ woken: Set<string>; runs: number; peak: number }> {
  const storage = new MemoryStreamStorage();
  const woken = new Set<string>();
  let runs = 0;
  const inspect = (event: InspectionEvent) => {
    const ref = event.actorRef as AnyActorRef;
    if (event.type === '@xstate.event' && /^w\d+$/.test(ref.id) && event.event.type === 'run') {
      woken.add(ref.id);
      runs++;
    }
  };
  let running = 0;
  let peak = 0;
  const router = new Router().on('work', async () => {
    running++;
    peak = Math.max(peak, running);
    try {
      await handler();
    } finally {
      running--;
    }
  });
  const syncRouter = new Router().on('work', () => {
    running++;
    peak = Math.max(peak, running);
    handler();
    running--;
  });
  const runtime = createRuntime({
    storage,
    router: isAsync ? router : syncRouter,
    inspect,
    consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 4, startId: '0', blockMs: 100 }],
  });
  if (onDuration) runtime.stats('s/g/c')!.onHandlerDuration = onDuration;
  for (let n = 0; n < total; n++) await storage.add('s', { type: 'work', n: String(n) });
  await runtime.start();
  await waitUntil(
    async () =>
      (await storage.pending('s', 'g', { count: 1 })).length === 0 &&
      runtime.stats('s/g/c')!.processed >= total,
  );
  await runtime.stop();
  return { woken, runs, peak };
}

describe('waking workers', () => {
  it('runs synchronous handlers on one worker per busy period: the others are never woken', async () => {
    const { woken, runs } = await drain(() => {}, 100, false);
    expect([...woken]).toEqual(['w0']);
    // A busy period takes the next message in place: one `run` per busy period, not per message.
    expect(runs).toBeLessThan(10);
  });

  it('keeps synchronous handlers on the direct path with a duration hook (the dashboard histogram) attached', async () => {
    const durations: number[] = [];
    const { woken } = await drain(
      () => {},
      100,
      false,
      (ms) => durations.push(ms),
    );
    // The async path would settle every message a microtask later and wake the other workers.
    expect([...woken]).toEqual(['w0']);
    expect(durations).toHaveLength(100);
  });

  it('fans asynchronous handlers out to every free worker', async () => {
    const { woken, peak } = await drain(() => sleep(3), 40, true);
    expect(woken.size).toBe(4);
    expect(peak).toBe(4);
  });
});

describe('a busy period yields to I/O', () => {
  /** 500 messages read at once (prefetch 1000) by 4 workers, until all are acked. */
  async function drainQueued(router: Router): Promise<void> {
    const storage = new MemoryStreamStorage();
    const runtime = createRuntime({
      storage,
      router,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 4, prefetch: 1000, startId: '0' }],
    });
    const total = 500;
    for (let n = 0; n < total; n++) await storage.add('s', { type: 'work', n: String(n) });
    await runtime.start();
    await waitUntil(
      async () =>
        (await storage.pending('s', 'g', { count: 1 })).length === 0 &&
        runtime.stats('s/g/c')!.processed >= total,
    );
    await runtime.stop();
  }

  it('runs at most TURN_BUDGET queued messages per turn of the event loop, then goes on in the next', async () => {
    let ran = 0;
    let ranBeforeNextTurn = -1;
    let ranInNextTurn = -1;
    const router = new Router().on('work', () => {
      if (ran++ === 0)
        setImmediate(() => {
          ranBeforeNextTurn = ran;
          setImmediate(() => (ranInNextTurn = ran - ranBeforeNextTurn));
        });
    });
    await drainQueued(router);
    expect(ranBeforeNextTurn).toBeGreaterThan(0);
    expect(ranBeforeNextTurn).toBeLessThanOrEqual(TURN_BUDGET + 1);
    // The budget is per turn: the next turn runs a full budget again.
    expect(ranInNextTurn).toBeGreaterThan(TURN_BUDGET / 2);
    expect(ranInNextTurn).toBeLessThanOrEqual(TURN_BUDGET + 1);
  });

  it('counts handlers that settle within microtasks against the same budget', async () => {
    let ran = 0;
    let ranBeforeNextTurn = -1;
    const router = new Router().on('work', async () => {
      if (ran++ === 0) setImmediate(() => (ranBeforeNextTurn = ran));
    });
    await drainQueued(router);
    // Each of the 4 workers checks the budget after its message: at most one more each.
    expect(ranBeforeNextTurn).toBeGreaterThan(TURN_BUDGET / 2);
    expect(ranBeforeNextTurn).toBeLessThanOrEqual(TURN_BUDGET + 4);
  });
});

describe('a stop during a busy period', () => {
  it('releases the message deferred to the next turn: it never starts and stays pending', async () => {
    const storage = new MemoryStreamStorage();
    let ran = 0;
    let stopping: Promise<void> | null = null;
    let stopCalled = 0;
    const router = new Router().on('work', () => {
      // Runs before the busy period goes on in the next turn (its immediate is queued later).
      if (ran++ === 0)
        setImmediate(() => {
          stopCalled = performance.now();
          stopping = runtime.stop({ timeoutMs: 1_000 });
        });
    });
    const runtime = createRuntime({
      storage,
      router,
      closeStorage: false,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 4, prefetch: 1000, startId: '0' }],
    });
    const total = 200;
    for (let n = 0; n < total; n++) await storage.add('s', { type: 'work', n: String(n) });
    await runtime.start();
    await waitUntil(() => stopping !== null);
    await stopping;
    // The released message leaves its worker idle at once: the stop does not wait for its deadline.
    expect(performance.now() - stopCalled).toBeLessThan(900);
    expect(ran).toBe(TURN_BUDGET + 1);
    expect(runtime.stats('s/g/c')!.processed).toBe(ran);
    expect(await storage.pending('s', 'g', { count: 1000 })).toHaveLength(total - ran);
    await storage.close();
  });
});
