// runtime.setConcurrency over the in-memory storage, with handlers the test releases itself: which
// workers exist, how many handlers run at once, and that every message is handled exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, MemoryStreamStorage, Router, type Runtime } from '../../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Handlers that wait until the test releases them; counts how many run at once. */
function gatedRouter() {
  const waiting: Array<() => void> = [];
  const handled: string[] = [];
  const order: string[] = [];
  let running = 0;
  let max = 0;
  const router = new Router().on('job', async (message) => {
    running++;
    max = Math.max(max, running);
    order.push(String(message.fields.n));
    await new Promise<void>((resolve) => waiting.push(resolve));
    running--;
    handled.push(message.id);
  });
  return {
    router,
    handled,
    order,
    get running() {
      return running;
    },
    /** Restart the count of handlers at once (from those running now). */
    resetMax() {
      max = running;
    },
    get max() {
      return max;
    },
    get waiting() {
      return waiting.length;
    },
    release(n = Number.POSITIVE_INFINITY) {
      for (const resolve of waiting.splice(0, n)) resolve();
    },
  };
}

const workerIds = (runtime: Runtime) => runtime.snapshot().consumers[0]?.workers.map((w) => w.id);

let runtime: Runtime | null = null;
afterEach(async () => {
  await runtime?.stop({ timeoutMs: 1000 });
  runtime = null;
});

async function start(
  router: Router,
  concurrency: number,
  extra: Record<string, unknown> = {},
): Promise<{ runtime: Runtime; storage: MemoryStreamStorage; id: string }> {
  const storage = new MemoryStreamStorage();
  const created = createRuntime({
    storage,
    router,
    consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency, blockMs: 50, ...extra }],
  });
  runtime = created;
  await created.start();
  return { runtime: created, storage, id: 's/g/c' };
}

async function publish(storage: MemoryStreamStorage, n: number, key?: (i: number) => string) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push(await storage.add('s', { type: 'job', n: String(i), ...(key ? { key: key(i) } : {}) }));
  return ids;
}

describe('runtime.setConcurrency', () => {
  it('grows from 2 to 8 workers, then shrinks to 1 after the busy ones finish; nothing is lost', async () => {
    const gate = gatedRouter();
    // With read-ahead, messages wait in the pool: a retiring worker must not take one in place.
    const { runtime, storage, id } = await start(gate.router, 2, { prefetch: 16 });
    const ids = await publish(storage, 40);
    await until(() => gate.running === 2, '2 handlers');
    await sleep(20);
    expect(gate.max).toBe(2);
    expect(workerIds(runtime)).toEqual(['w0', 'w1']);

    await runtime.setConcurrency(id, 8);
    expect(workerIds(runtime)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']);
    expect(runtime.snapshot().consumers[0]?.concurrency).toBe(8);
    expect(runtime.consumers[0]?.concurrency).toBe(8);
    await until(() => gate.running === 8, '8 handlers at once');
    await sleep(20);
    expect(gate.max).toBe(8);

    // Shrinking waits for the 7 busy workers above w0 to finish their message.
    let shrunk = false;
    const shrinking = runtime.setConcurrency(id, 1).then(() => {
      shrunk = true;
    });
    await sleep(20);
    expect(shrunk).toBe(false);
    expect(gate.running).toBe(8); // nothing was aborted
    expect(workerIds(runtime)).toHaveLength(8);
    gate.release();
    // Done once the 7 finished the message they held, without being released again: they took no
    // other message (w0 did, and holds it).
    await until(() => shrunk, 'the shrink to finish');
    await shrinking;
    expect(workerIds(runtime)).toEqual(['w0']);
    expect(gate.handled).toHaveLength(8);
    await until(() => gate.running === 1, 'w0 on the next message');
    gate.resetMax();
    // From now on one handler at a time.
    while (gate.handled.length < ids.length) {
      await until(() => gate.waiting > 0 || gate.handled.length === ids.length, 'a handler');
      expect(gate.running).toBeLessThanOrEqual(1);
      gate.release();
      await sleep(1);
    }
    expect(gate.max).toBe(1);
    expect([...gate.handled].sort()).toEqual([...ids].sort());
    expect(new Set(gate.handled).size).toBe(ids.length);
    for (let i = 0; (await storage.pending('s', 'g', { count: 100 })).length > 0; i++) {
      if (i > 500) throw new Error('messages left pending');
      await sleep(5);
    }
    expect(runtime.snapshot().consumers[0]?.processed).toBe(ids.length);
  });

  it('stops idle workers at once when shrinking', async () => {
    const gate = gatedRouter();
    const { runtime, id } = await start(gate.router, 6);
    await runtime.setConcurrency(id, 2);
    expect(workerIds(runtime)).toEqual(['w0', 'w1']);
    await runtime.setConcurrency(id, 3);
    expect(workerIds(runtime)).toEqual(['w0', 'w1', 'w2']);
  });

  it('takes a retiring worker back when growing again before it finished', async () => {
    const gate = gatedRouter();
    const { runtime, storage, id } = await start(gate.router, 4);
    const ids = await publish(storage, 4);
    await until(() => gate.running === 4, '4 handlers');
    const shrinking = runtime.setConcurrency(id, 1);
    const growing = runtime.setConcurrency(id, 4);
    await expect(shrinking).rejects.toThrow(/was changed to 4 before it ran with 1 workers/);
    await growing;
    expect(workerIds(runtime)).toEqual(['w0', 'w1', 'w2', 'w3']);
    await publish(storage, 4);
    gate.release();
    await until(() => gate.handled.length === 4 && gate.running === 4, '4 handlers again');
    gate.release();
    await until(() => gate.handled.length === 8, 'all 8');
    expect(new Set(gate.handled).size).toBe(8);
    expect(gate.handled).toEqual(expect.arrayContaining(ids));
  });

  it('keeps the order of an ordering key when the worker that held it retires', async () => {
    const gate = gatedRouter();
    // prefetch: every message is held at once, so each key's later messages wait behind its first.
    const { runtime, storage, id } = await start(gate.router, 3, {
      prefetch: 12,
      orderingKey: (m: { fields: Record<string, string> }) => m.fields.key,
    });
    // Key a: 0, 3, 6, 9; b: 1, 4, 7, 10; c: 2, 5, 8, 11 (three keys on three workers).
    await publish(storage, 12, (i) => 'abc'[i % 3] ?? 'a');
    await until(() => gate.running === 3, '3 handlers');
    const shrinking = runtime.setConcurrency(id, 1);
    while (gate.handled.length < 12) {
      await until(() => gate.waiting > 0, 'a handler');
      gate.release(1);
      await sleep(1);
    }
    await shrinking;
    expect(workerIds(runtime)).toEqual(['w0']);
    for (const key of [0, 1, 2]) {
      const ofKey = gate.order.filter((n) => Number(n) % 3 === key).map(Number);
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
      expect(ofKey).toHaveLength(4);
    }
  });

  it('a restarted consumer keeps the new concurrency', async () => {
    const gate = gatedRouter();
    const { runtime, storage, id } = await start(gate.router, 2);
    await runtime.setConcurrency(id, 5);
    await storage.destroyGroup('s', 'g'); // the next read fails with NOGROUP: the supervisor restarts it
    await until(() => runtime.snapshot().consumers[0]?.restarts === 1, 'a restart', 10_000);
    await until(() => workerIds(runtime)?.length === 5, '5 workers after the restart', 10_000);
    expect(workerIds(runtime)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
    await runtime.setConcurrency(id, 5); // already there: resolves at once
  });

  it('before start() it sets the concurrency the consumer starts with', async () => {
    const gate = gatedRouter();
    const created = createRuntime({
      storage: new MemoryStreamStorage(),
      router: gate.router,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 2, blockMs: 50 }],
    });
    runtime = created;
    await created.setConcurrency('s/g/c', 3);
    await created.start();
    expect(workerIds(created)).toEqual(['w0', 'w1', 'w2']);
  });

  it('rejects a count outside 1–1024 with a RangeError naming the limits', async () => {
    const { runtime, id } = await start(gatedRouter().router, 2);
    for (const bad of [0, 1025, 1.5, -1, Number.NaN, '4' as unknown as number]) {
      await expect(runtime.setConcurrency(id, bad)).rejects.toThrow(RangeError);
      await expect(runtime.setConcurrency(id, bad)).rejects.toThrow(
        /Expected `concurrency` to be an integer from 1 to 1024, got/,
      );
    }
    await runtime.setConcurrency(id, 1);
    expect(workerIds(runtime)).toEqual(['w0']);
  });

  it('accepts 1024, the limit (recorded before start, so the test spawns no 1024 actors)', async () => {
    const created = createRuntime({
      storage: new MemoryStreamStorage(),
      router: gatedRouter().router,
      consumers: [{ stream: 's', group: 'g', consumer: 'c', concurrency: 2 }],
    });
    await created.setConcurrency('s/g/c', 1024);
    expect(created.consumers[0]?.concurrency).toBe(1024);
  });

  it('rejects an unknown consumer id, naming the known ones, and a stopped runtime', async () => {
    const { runtime, id } = await start(gatedRouter().router, 2);
    await expect(runtime.setConcurrency('nope', 4)).rejects.toThrow(RangeError);
    await expect(runtime.setConcurrency('nope', 4)).rejects.toThrow(
      'No consumer "nope" in this runtime; its consumers are: "s/g/c"',
    );
    await runtime.stop({ timeoutMs: 1000 });
    await expect(runtime.setConcurrency(id, 4)).rejects.toMatchObject({
      code: 'RUNTIME_STATE',
      message: 'Cannot change the concurrency of "s/g/c": the runtime is stopped',
    });
  });
});
