import { afterEach, describe, expect, it } from 'vitest';
import { BatchError, MemoryRetryScheduler, type Message, NonRetryableError } from '../../src/index.js';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, storageAtT0 } from './retry-support.js';

// Batch handlers (router.batch) on the memory storage and a simulated clock: how batches fill, how
// they settle (ack all, retry all, BatchError, each message its own failure path), what never joins
// one, and what the snapshot shows.

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

const backoff = { initialMs: 100, maxMs: 1000 };
const ids = (messages: readonly Message[]) => messages.map((m) => m.id);

/** Memory storage that records the ids of every XACK. */
class RecordingAcks extends MemoryStreamStorage {
  readonly acks: string[][] = [];
  override ack(stream: string, group: string, ackIds: readonly string[]): Promise<number> {
    this.acks.push([...ackIds]);
    return super.ack(stream, group, ackIds);
  }
}

async function addMany(harness: Harness, n: number, type = 'm'): Promise<string[]> {
  const added: string[] = [];
  for (let i = 0; i < n; i++) {
    added.push(await harness.storage.add(harness.stream, { type, payload: `{"i":${i}}` }));
  }
  await harness.flush();
  return added;
}

describe('router.batch: filling batches', () => {
  it('calls the handler with up to `size` messages, and runs a partial batch `waitMs` after its first message (runtime clock)', async () => {
    const calls: string[][] = [];
    h = await startHarness((router) =>
      router.batch('m', (messages) => void calls.push(ids(messages)), { size: 3, waitMs: 50 }),
    );
    const added = await addMany(h, 7);
    expect(calls).toEqual([added.slice(0, 3), added.slice(3, 6)]);
    await h.advance(49);
    expect(calls).toHaveLength(2);
    await h.advance(1);
    expect(calls).toEqual([added.slice(0, 3), added.slice(3, 6), added.slice(6)]);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]!.processed).toBe(7);
  });

  it('acks a batch that succeeded in one XACK', async () => {
    const { clock, storage } = storageAtT0((c) => new RecordingAcks({ clock: c }));
    h = await startHarness((router) => router.batch('m', () => {}, { size: 5, waitMs: 10 }), {
      clock,
      storage,
    });
    const added = await addMany(h, 5);
    expect(storage.acks.filter((call) => added.some((id) => call.includes(id)))).toEqual([added]);
  });

  it('with waitMs 0, runs what one read brought at once', async () => {
    const calls: string[][] = [];
    h = await startHarness((router) =>
      router.batch('m', (messages) => void calls.push(ids(messages)), { size: 10, waitMs: 0 }),
    );
    const added = await addMany(h, 1);
    expect(calls).toEqual([added]);
  });

  it('never puts malformed or typeless entries in a batch: each is dead-lettered alone, with its reason', async () => {
    const calls: string[][] = [];
    h = await startHarness((router) =>
      router.batch('m', (messages) => void calls.push(ids(messages)), { size: 4, waitMs: 10 }),
    );
    const good1 = await h.storage.add(h.stream, { type: 'm', payload: '{}' });
    const malformed = await h.storage.add(h.stream, { type: 'm', payload: '{not json' });
    const typeless = await h.storage.add(h.stream, { payload: '{}' });
    const good2 = await h.storage.add(h.stream, { type: 'm', payload: '{}' });
    await h.flush();
    await h.advance(10);
    expect(calls).toEqual([[good1, good2]]);
    const dead = await h.dead();
    expect(dead.map((d) => [d.fields['x-source-id'], d.fields['x-dead-reason']])).toEqual([
      [malformed, 'malformed-payload'],
      [typeless, 'missing-type'],
    ]);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('shows the batch on its worker: state running, the first id and the size', async () => {
    let release = () => {};
    h = await startHarness((router) =>
      router.batch('m', () => new Promise<void>((resolve) => (release = resolve)), { size: 3, waitMs: 10 }),
    );
    const added = await addMany(h, 3);
    const busy = h.runtime.snapshot().consumers[0]!.workers.filter((w) => w.state !== 'idle');
    expect(busy).toEqual([{ id: 'w0', state: 'running', messageId: added[0], batchSize: 3, attempt: 1 }]);
    release();
    await h.flush();
    const workers = h.runtime.snapshot().consumers[0]!.workers;
    expect(workers.every((w) => w.state === 'idle' && w.batchSize === null && w.messageId === null)).toBe(
      true,
    );
  });
});

describe('router.batch: settling', () => {
  it('retries a batch that threw as a whole, so every message is handled once', async () => {
    const calls: Array<{ ids: string[]; attempt: number }> = [];
    const handled = new Map<string, number>();
    h = await startHarness(
      (router) =>
        router.batch(
          'm',
          (messages, ctx) => {
            calls.push({ ids: ids(messages), attempt: ctx.attempt });
            if (calls.length === 1) throw new Error('database down');
            for (const m of messages) handled.set(m.id, (handled.get(m.id) ?? 0) + 1);
          },
          { size: 4, waitMs: 10 },
        ),
      { consumer: { retry: { attempts: 3, backoff } } },
    );
    const added = await addMany(h, 4);
    expect(calls).toEqual([{ ids: added, attempt: 1 }]);
    await h.advance(75);
    expect(calls).toEqual([
      { ids: added, attempt: 1 },
      { ids: added, attempt: 2 },
    ]);
    expect([...handled.values()]).toEqual([1, 1, 1, 1]);
    expect(await h.pendingIds()).toEqual([]);
    const snap = h.runtime.snapshot().consumers[0]!;
    expect([snap.processed, snap.failed, snap.retried, snap.deadLettered]).toEqual([4, 4, 4, 0]);
  });

  it('BatchError: acks the others at once; the named ones retry alone, a NonRetryableError among them is dead-lettered', async () => {
    const calls: string[][] = [];
    h = await startHarness(
      (router) =>
        router.batch(
          'm',
          (messages) => {
            calls.push(ids(messages));
            if (calls.length === 1) {
              throw new BatchError([
                [messages[1]!, new Error('row 1 locked')],
                [messages[2]!, new NonRetryableError('row 2 is invalid')],
              ]);
            }
          },
          { size: 4, waitMs: 10 },
        ),
      { consumer: { retry: { attempts: 3, backoff } } },
    );
    const added = await addMany(h, 4);
    // Before the retry: the two that succeeded are acked already.
    expect((await h.pendingIds()).sort()).toEqual([added[1], added[2]].sort());
    await h.advance(75);
    expect(calls).toEqual([added, [added[1]]]);
    expect(await h.pendingIds()).toEqual([]);
    const dead = await h.dead();
    expect(
      dead.map((d) => [d.fields['x-source-id'], d.fields['x-dead-reason'], d.fields['x-dead-error']]),
    ).toEqual([[added[2], 'non-retryable', 'row 2 is invalid']]);
    const retrying = h.events.flatMap((e) => (e.type === 'message.retrying' ? [[e.messageId, e.error]] : []));
    expect(retrying).toEqual([[added[1], 'row 1 locked']]);
    expect(h.runtime.snapshot().consumers[0]!.processed).toBe(3);
  });

  it('after the last attempt, each message is dead-lettered with its own error', async () => {
    h = await startHarness(
      (router) =>
        router.batch(
          'm',
          (messages) => {
            throw new BatchError(
              messages.map((m) => [m, new Error(`bad ${(m.payload as { i: number }).i}`)]),
            );
          },
          { size: 2, waitMs: 10 },
        ),
      { consumer: { retry: { attempts: 2, backoff } } },
    );
    const added = await addMany(h, 2);
    await h.advance(200);
    const dead = await h.dead();
    expect(
      dead.map((d) => [d.fields['x-source-id'], d.fields['x-dead-reason'], d.fields['x-dead-error']]),
    ).toEqual([
      [added[0], 'handler-error', 'bad 0'],
      [added[1], 'handler-error', 'bad 1'],
    ]);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]!.deadLetteredByReason).toEqual({ 'handler-error': 2 });
  });

  it('after the last attempt, each message goes its own way: a durable retry, or a dead letter once its scheduled attempts are used up', async () => {
    let scheduler: MemoryRetryScheduler | undefined;
    h = await startHarness(
      (router) =>
        router.batch(
          'm',
          () => {
            throw new Error('still failing');
          },
          { size: 2, waitMs: 10 },
        ),
      {
        consumer: { retry: { attempts: 1, backoff, scheduled: { attempts: 1, backoff } } },
        retryScheduler: (storage, clock) => {
          scheduler = new MemoryRetryScheduler({ storage, clock });
          return scheduler;
        },
      },
    );
    const fresh = await h.storage.add(h.stream, { type: 'm', payload: '{}' });
    const usedUp = await h.storage.add(h.stream, { type: 'm', payload: '{}', 'x-retry-attempt': '1' });
    await h.flush();
    await h.advance(10);
    expect(scheduler!.dueTimes('s')).toHaveLength(1);
    const scheduled = h.events.flatMap((e) => (e.type === 'message.scheduled' ? [e.messageId] : []));
    expect(scheduled).toEqual([fresh]);
    const dead = await h.dead();
    expect(dead.map((d) => [d.fields['x-source-id'], d.fields['x-dead-reason']])).toEqual([
      [usedUp, 'handler-error'],
    ]);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('NonRetryableError from the handler dead-letters the whole batch at once', async () => {
    h = await startHarness((router) =>
      router.batch(
        'm',
        () => {
          throw new NonRetryableError('schema v1 is gone');
        },
        { size: 2, waitMs: 10 },
      ),
    );
    await addMany(h, 2);
    const dead = await h.dead();
    expect(dead.map((d) => d.fields['x-dead-reason'])).toEqual(['non-retryable', 'non-retryable']);
    expect(await h.pendingIds()).toEqual([]);
  });
});

describe('router.batch: ordering and stopping', () => {
  async function concurrentCalls(orderingKey: boolean): Promise<{ max: number; order: string[] }> {
    let running = 0;
    let max = 0;
    const order: string[] = [];
    const releases: Array<() => void> = [];
    h = await startHarness(
      (router) =>
        router.batch(
          'm',
          async (messages) => {
            order.push(...ids(messages));
            max = Math.max(max, ++running);
            await new Promise<void>((resolve) => releases.push(resolve));
            running--;
          },
          { size: 2, waitMs: 0 },
        ),
      { consumer: { concurrency: 4, ...(orderingKey ? { orderingKey: () => 'k' } : {}) } },
    );
    await addMany(h, 6);
    for (let i = 0; i < 10; i++) {
      for (const release of releases.splice(0)) release();
      await h.flush();
    }
    expect(order).toHaveLength(6);
    expect(await h.pendingIds()).toEqual([]);
    return { max, order };
  }

  it('with an orderingKey, a type runs one batch at a time, in stream order', async () => {
    const { max, order } = await concurrentCalls(true);
    expect(max).toBe(1);
    expect(order).toEqual([...order].sort());
  });

  it('without one, batches of a type run on as many workers as are free', async () => {
    const { max } = await concurrentCalls(false);
    expect(max).toBeGreaterThan(1);
  });

  it('a stop leaves a batch still filling pending (not acked), without calling its handler', async () => {
    let called = 0;
    h = await startHarness((router) => router.batch('m', () => void called++, { size: 10, waitMs: 60_000 }));
    const added = await addMany(h, 3);
    const harness = h;
    await harness.stop();
    h = undefined;
    expect(called).toBe(0);
    const pending = await harness.storage.pending(harness.stream, harness.group, { count: 10 });
    expect(pending.map((p) => p.id)).toEqual(added);
  });
});

describe('runtime.dispatch of a batch type', () => {
  it('calls the batch handler with a batch of one', async () => {
    const calls: unknown[][] = [];
    h = await startHarness((router) =>
      router.batch('m', (messages) => void calls.push(messages.map((m) => m.payload)), { name: 'store' }),
    );
    const result = await h.runtime.dispatch({ type: 'm', payload: { v: 1 } });
    expect(result).toEqual({ outcome: 'handled', handlers: ['store'] });
    expect(calls).toEqual([[{ v: 1 }]]);
  });
});

describe('ctx.publish in a batch handler', () => {
  it('throws a TypeError that names router.batch and publish(), and the batch is not acked', async () => {
    const errors: unknown[] = [];
    h = await startHarness((router) =>
      router.batch(
        'm',
        (_messages, ctx) => {
          try {
            ctx.publish('out', 'o', {});
          } catch (error) {
            errors.push(error);
            throw error;
          }
        },
        { name: 'store', waitMs: 0 },
      ),
    );
    const added = await addMany(h, 1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    const pending = await h.storage.pending(h.stream, h.group, { count: 10 });
    expect(pending.map((p) => p.id)).toEqual(added);
    expect(String(errors[0])).toMatch(/router\.batch\('m'\).*publish\(\)/);
  });
});
