import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedClock } from 'xstate';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import {
  FlakyDeadLetters,
  type Harness,
  heldHandler,
  memoryLogger,
  startHarness,
  storageAtT0,
  T0,
} from './retry-support.js';

// A consumer's own pending entries (a crash left them): re-run once per incarnation, as workers free
// up; a stop cuts that short. Entries left pending later in the incarnation come back by XAUTOCLAIM,
// once idle for claim.minIdleMs.

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

/** Storage holding `count` entries delivered to consumer c1 of s/g and never acked. */
async function leftPending<S extends MemoryStreamStorage = MemoryStreamStorage>(
  count: number,
  make: (clock: SimulatedClock) => S = (clock) => new MemoryStreamStorage({ clock }) as S,
) {
  const { clock, storage } = storageAtT0(make);
  await storage.ensureGroup('s', 'g', '0');
  const ids: string[] = [];
  for (let n = 0; n < count; n++) ids.push(await storage.add('s', { type: 't', payload: '{}' }));
  await storage.readGroup('s', 'g', 'c1', { count });
  return { clock, storage, ids };
}

describe("a consumer's own pending entries", () => {
  it('are re-run at start, more of them than workers, in order, as workers free up', async () => {
    const { clock, storage, ids } = await leftPending(5);
    const started: string[] = [];
    const finish: Array<() => void> = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m) => {
          started.push(m.id);
          return new Promise<void>((resolve) => finish.push(resolve));
        }),
      { clock, storage, consumer: { concurrency: 1, prefetch: 0 } },
    );
    expect(started).toEqual(ids.slice(0, 1));
    for (let n = 1; n < 5; n++) {
      finish.shift()!();
      await h.flush();
      expect(started).toEqual(ids.slice(0, n + 1));
    }
    finish.shift()!();
    await h.flush();
    expect(await h.pendingIds()).toEqual([]);
  });

  it('a stop during that recovery ends it: the entries not yet taken stay pending and never run', async () => {
    const { logger, records } = memoryLogger();
    const { clock, storage, ids } = await leftPending(5);
    const { started, finish, handler } = heldHandler();
    h = await startHarness((router) => router.on('t', handler), {
      clock,
      storage,
      logger,
      consumer: { concurrency: 1, prefetch: 0 },
    });
    const stopping = h.runtime.stop({ timeoutMs: 10_000 });
    await h.advance(100, 50);
    finish();
    await h.flush();
    await stopping;
    expect(h.clock.now() - T0).toBe(100);
    expect(started).toEqual(ids.slice(0, 1));
    expect(await h.pendingIds()).toEqual(ids.slice(1));
    expect(records.filter((r) => (r.level as number) >= 40)).toEqual([]);
  });

  it('a stop while a claim of them is in flight leaves what it returns pending: the stop does not wait for it', async () => {
    // Two entries run (concurrency 2); the third is claimed when the first finishes, and the stop
    // lands while that claim is in flight. The drain waits for the second handler only.
    class SlowClaim extends MemoryStreamStorage {
      gate: Promise<void> | null = null;
      override async claim(...args: Parameters<MemoryStreamStorage['claim']>) {
        if (this.gate !== null) await this.gate;
        return super.claim(...args);
      }
    }
    const { clock, storage, ids } = await leftPending(3, (clock) => new SlowClaim({ clock }));
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    h = await startHarness(
      (router) =>
        router.on('t', (m) => {
          started.push(m.id);
          return new Promise<void>((resolve) => finish.set(m.id, resolve));
        }),
      { clock, storage, consumer: { concurrency: 2, prefetch: 0 } },
    );
    expect(started).toEqual(ids.slice(0, 2));
    let release: () => void = () => {};
    storage.gate = new Promise<void>((resolve) => (release = resolve));
    finish.get(ids[0]!)!();
    await h.flush();
    let stopped = false;
    const stopping = h.runtime.stop({ timeoutMs: 10_000 }).then(() => (stopped = true));
    await h.flush();
    release();
    await h.flush();
    finish.get(ids[1]!)!();
    await h.advance(2_000, 100);
    expect(stopped).toBe(true);
    await stopping;
    expect(started).toEqual(ids.slice(0, 2));
    expect(await h.pendingIds()).toEqual(ids.slice(2));
  });

  it('one left pending later (a failed dead-letter write) waits claim.minIdleMs, not the next recovery, to run again', async () => {
    const { clock, storage } = storageAtT0((clock) => new FlakyDeadLetters({ clock }));
    let calls = 0;
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          calls++;
          throw new Error('bad');
        }),
      { clock, storage, consumer: { retry: { attempts: 1 }, claim: { minIdleMs: 5000, intervalMs: 1000 } } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(4000, 100);
    expect(await h.dead()).toEqual([]);
    await h.advance(2000, 100);
    // Back after minIdleMs: straight to the dead-letter write (its first reason), the handler not run again.
    expect((await h.dead()).map((l) => l.fields['x-deliveries'])).toEqual(['2']);
    expect(calls).toBe(1);
  });
});
