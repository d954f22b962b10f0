import { afterEach, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, T0 } from './retry-support.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

it('keeps a 3 s handler’s message owned: another consumer’s XAUTOCLAIM (minIdle 500 ms) never takes it', async () => {
  let runs = 0;
  h = await startHarness(
    (router) =>
      router.on('slow', () => {
        runs++;
        return new Promise<void>((resolve) => h!.clock.setTimeout(resolve, 3000));
      }),
    { consumer: { claim: { minIdleMs: 500, intervalMs: 100_000 } } },
  );
  const id = await h.add({ type: 'slow', payload: '{}' });
  const stolen: string[] = [];
  let maxIdle = 0;
  for (let t = 0; t < 3000; t += 50) {
    await h.advance(50, 50);
    const [pending] = await h.storage.pending('s', 'g', { count: 10 });
    if (pending) maxIdle = Math.max(maxIdle, pending.idleMs);
    const page = await h.storage.autoClaim('s', 'g', 'thief', { minIdleMs: 500, count: 10 });
    stolen.push(...page.entries.map((e) => e.id));
  }
  await h.advance(100);
  expect(stolen).toEqual([]);
  expect(runs).toBe(1);
  // Touched every minIdleMs / 3 (166 ms): never close to idle enough to be claimed.
  expect(maxIdle).toBeLessThanOrEqual(250);
  expect(await h.pendingIds()).toEqual([]);
  expect(id).toMatch(/-/);
});

it('without work in flight the idle time of other consumers’ entries is left alone', async () => {
  h = await startHarness((router) => router.on('t', () => {}), {
    consumer: { claim: { minIdleMs: 500, intervalMs: 100_000 } },
  });
  await h.storage.add('s', { type: 'orphan' });
  // Another consumer reads it and dies; ours must not keep it alive by touching it.
  await h.storage.ensureGroup('s', 'g2', '0');
  const [orphan] = await h.storage.readGroup('s', 'g2', 'dead', { count: 1 });
  await h.advance(1000, 100);
  const [pending] = await h.storage.pending('s', 'g2', { count: 10 });
  expect(pending).toMatchObject({ id: orphan!.id, consumer: 'dead' });
  expect(pending!.idleMs).toBeGreaterThanOrEqual(1000);
});

it('a handled message whose batched XACK has not landed yet is not run again by the consumer’s own recovery', async () => {
  // An XACK that takes a while (a loaded server, a slow link): meanwhile the handled entries stay
  // pending and idle, so the periodic XAUTOCLAIM returns them.
  let release = (): void => {};
  const acked = new Promise<void>((resolve) => {
    release = resolve;
  });
  class SlowAckStorage extends MemoryStreamStorage {
    override async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
      await acked;
      return super.ack(stream, group, ids);
    }
  }
  const runs = new Map<string, number>();
  const clock = new SimulatedClock();
  clock.set(T0);
  h = await startHarness(
    (router) =>
      router.on('t', (message) => {
        runs.set(message.id, (runs.get(message.id) ?? 0) + 1);
      }),
    {
      clock,
      storage: new SlowAckStorage({ clock }),
      consumer: { claim: { minIdleMs: 100, intervalMs: 200 } },
    },
  );
  for (let i = 0; i < 5; i++) await h.add({ type: 't', payload: '{}' });
  await h.advance(1000, 50);
  expect((await h.storage.pending('s', 'g', { count: 10 })).length).toBe(5);
  release();
  await h.advance(200, 50);
  expect([...runs.values()]).toEqual([1, 1, 1, 1, 1]);
  expect(await h.pendingIds()).toEqual([]);
});
