import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRetryScheduler, MemoryStreamStorage, type Message } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, type HarnessOptions, startHarness, storageAtT0, T0 } from './retry-support.js';

// A message waiting for its in-place retry when its consumer stops (or dies) stays pending, and its
// key's order holds in the next runtime: the pending list is re-processed in id order.

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
  await expectNoLeaks();
});

const byKey = (message: Message) => (message.payload as { key?: string }).key;
const retry = {
  attempts: 1,
  backoff: { initialMs: 100, maxMs: 1000 },
  scheduled: { attempts: 3, backoff: { initialMs: 10_000, maxMs: 10_000 } },
};

function labelOf(m: Message): string {
  const { key, n } = m.payload as { key: string; n: number };
  return `${key}${n}`;
}

describe('ordered retries in place across a restart', () => {
  for (const consumer of ['c1', 'c2'] as const) {
    const how = consumer === 'c1' ? 'the same consumer name' : 'another consumer, claiming after minIdleMs,';
    it(`a stop leaves the waiting message and its key's later ones pending; ${how} runs them in order`, async () => {
      const { clock, storage } = storageAtT0((c) => new MemoryStreamStorage({ clock: c }));
      const first: string[] = [];
      const second: string[] = [];
      let runtime = 1;
      const options = (name: string): HarnessOptions => ({
        storage,
        clock,
        retryScheduler: (s, c) => new MemoryRetryScheduler({ storage: s, clock: c }),
        consumer: {
          consumer: name,
          orderingKey: byKey,
          concurrency: 8,
          retry,
          claim: { minIdleMs: 1000, intervalMs: 500 },
        },
      });
      const setup = (router: Parameters<Parameters<typeof startHarness>[0]>[0]) =>
        router.on('t', (m) => {
          (runtime === 1 ? first : second).push(`${labelOf(m)}:${m.deliveries}`);
          if (runtime === 1 && labelOf(m) === 'a1') throw new Error('down');
        });
      const h1 = await startHarness(setup, options('c1'));
      harnesses.push(h1);
      const a1 = await h1.add({ type: 't', payload: '{"key":"a","n":1}' });
      const a2 = await h1.add({ type: 't', payload: '{"key":"a","n":2}' });
      await h1.add({ type: 't', payload: '{"key":"b","n":1}' });
      const a3 = await h1.add({ type: 't', payload: '{"key":"a","n":3}' });
      await h1.advance(100);
      expect(first).toEqual(['a1:1', 'b1:1']);
      // The stop does not wait for the 7.5 s retry: a1 is released, unacked, with a2 and a3.
      await h1.stop();
      harnesses.length = 0;
      expect(h1.runtime.status).toBe('stopped');
      expect(clock.now() - T0).toBeLessThan(2000);
      expect((await storage.pending('s', 'g', { count: 10 })).map((p) => [p.id, p.consumer])).toEqual([
        [a1, 'c1'],
        [a2, 'c1'],
        [a3, 'c1'],
      ]);
      expect(await storage.range('s:dead')).toEqual([]);
      runtime = 2;
      const h2 = await startHarness(setup, options(consumer));
      harnesses.push(h2);
      // Another consumer claims them once idle past minIdleMs (nobody keeps them owned any more).
      if (consumer === 'c2') await h2.advance(1500, 50);
      expect(second).toEqual(['a1:2', 'a2:2', 'a3:2']);
      expect(await h2.pendingIds()).toEqual([]);
    });
  }
});
