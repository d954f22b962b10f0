import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, T0 } from './retry-support.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

const byKey = (message: Message) => (message.payload as { key?: string }).key;
const backoff = { initialMs: 100, maxMs: 1000 };

describe('ordering keys under retries', () => {
  it('holds later messages of a key while an earlier one retries; other keys run meanwhile', async () => {
    const log: string[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m, ctx) => {
          const { key, n } = m.payload as { key: string; n: number };
          log.push(`${key}${n}@${h!.clock.now() - T0}#${ctx.attempt}`);
          if (key === 'a' && n === 1 && ctx.attempt < 3) throw new Error('not yet');
        }),
      { consumer: { orderingKey: byKey, concurrency: 8, retry: { attempts: 3, backoff } } },
    );
    await h.add({ type: 't', payload: '{"key":"a","n":1}' });
    await h.add({ type: 't', payload: '{"key":"a","n":2}' });
    await h.add({ type: 't', payload: '{"key":"b","n":1}' });
    await h.add({ type: 't', payload: '{"key":"a","n":3}' });
    await h.add({ type: 't', payload: '{"key":"b","n":2}' });
    expect(log).toEqual(['a1@0#1', 'b1@0#1', 'b2@0#1']);
    await h.advance(75);
    expect(log.slice(3)).toEqual(['a1@75#2']);
    await h.advance(150);
    expect(log.slice(4)).toEqual(['a1@225#3', 'a2@225#1', 'a3@225#1']);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ processed: 5, retried: 2, inFlight: 0 });
  });

  it('the next message of a key runs once the failing one is dead-lettered', async () => {
    const log: string[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m) => {
          const { key, n } = m.payload as { key: string; n: number };
          log.push(`${key}${n}@${h!.clock.now() - T0}`);
          if (n === 1) throw new Error('always');
        }),
      { consumer: { orderingKey: byKey, retry: { attempts: 2, backoff } } },
    );
    await h.add({ type: 't', payload: '{"key":"a","n":1}' });
    await h.add({ type: 't', payload: '{"key":"a","n":2}' });
    await h.advance(74);
    expect(log).toEqual(['a1@0']);
    await h.advance(1);
    expect(log).toEqual(['a1@0', 'a1@75', 'a2@75']);
    expect((await h.dead()).map((l) => l.fields.payload)).toEqual(['{"key":"a","n":1}']);
  });

  it('same key waits even when workers are free; a key queue counts against capacity', async () => {
    const release: Array<() => void> = [];
    const started: number[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (m) => {
          started.push((m.payload as { n: number }).n);
          return new Promise<void>((resolve) => release.push(resolve));
        }),
      { consumer: { orderingKey: () => 'same', concurrency: 3 } },
    );
    for (let n = 1; n <= 3; n++) await h.add({ type: 't', payload: `{"n":${n}}` });
    expect(started).toEqual([1]);
    expect(h.runtime.snapshot().consumers[0]!.inFlight).toBe(1);
    release.shift()!();
    await h.flush();
    expect(started).toEqual([1, 2]);
    release.shift()!();
    await h.flush();
    expect(started).toEqual([1, 2, 3]);
    release.shift()!();
    await h.flush();
    expect(await h.pendingIds()).toEqual([]);
  });
});
