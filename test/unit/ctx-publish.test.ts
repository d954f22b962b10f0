import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError, MemoryStreamStorage, NonRetryableError } from '../../src/index.js';
import { keySlot } from '../../src/storage/redis/key-slot.js';
import type { EntryWrite } from '../../src/storage/stream-storage.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, storageAtT0 } from './retry-support.js';

// ctx.publish: outputs buffered during a handler and written with the message's ack, only if that
// ack acked it (issue 24, item 1), on the in-memory storage and a simulated clock.

const backoff = { initialMs: 10, maxMs: 10 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

async function outputs(harness: Harness, stream = 'out'): Promise<Record<string, string>[]> {
  return (await harness.storage.range(stream)).map((entry) => entry.fields);
}

/** Memory storage that counts `ack` and `ackAndAdd` calls. */
class CountingStorage extends MemoryStreamStorage {
  acks = 0;
  ackAndAdds = 0;
  override ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.acks++;
    return super.ack(stream, group, ids);
  }
  override ackAndAdd(stream: string, group: string, id: string, entries: readonly EntryWrite[]) {
    this.ackAndAdds++;
    return super.ackAndAdd(stream, group, id, entries);
  }
}

describe('ctx.publish', () => {
  it('writes the outputs with the ack, encoded as publish() does (payload, key, partitions, headers)', async () => {
    h = await startHarness((router) =>
      router.on('order.paid', (message, ctx) => {
        const { orderId } = message.payload as { orderId: number };
        ctx.publish('out', 'invoice.due', { orderId }, { headers: { 'x-source-id': message.id } });
        ctx.publish('parts', 'ledger.entry', { orderId }, { key: 'customer-7', partitions: 12 });
      }),
    );
    const id = await h.add({ type: 'order.paid', payload: '{"orderId":42}' });
    await h.flush();
    expect(await outputs(h)).toEqual([{ type: 'invoice.due', payload: '{"orderId":42}', 'x-source-id': id }]);
    expect(await outputs(h, 'parts:{9}')).toEqual([
      { type: 'ledger.entry', payload: '{"orderId":42}', 'x-partition-key': 'customer-7' },
    ]);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]?.processed).toBe(1);
  });

  it('messages that publish nothing keep the batched XACK; only those with outputs use ackAndAdd', async () => {
    const { storage, clock } = storageAtT0((c) => new CountingStorage({ clock: c }));
    h = await startHarness(
      (router) =>
        router.on('t', (message, ctx) => {
          if ((message.payload as { n: number }).n % 10 === 0) ctx.publish('out', 'done', message.payload);
        }),
      { storage, clock },
    );
    for (let n = 0; n < 100; n++) await storage.add('s', { type: 't', payload: JSON.stringify({ n }) });
    await h.flush();
    await h.advance(100, 10);
    expect(await h.pendingIds()).toEqual([]);
    expect((await outputs(h)).map((fields) => fields.payload)).toEqual(
      Array.from({ length: 10 }, (_, i) => `{"n":${i * 10}}`),
    );
    expect(storage.ackAndAdds).toBe(10);
    // The 90 others went in batched XACKs: far fewer calls than messages.
    expect(storage.acks).toBeGreaterThan(0);
    expect(storage.acks).toBeLessThan(90);
  });

  it('a failed attempt drops what it published: a retried message writes its outputs once', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', (_message, ctx) => {
          ctx.publish('out', 'attempt', { attempt: ctx.attempt });
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        }),
      { consumer: { retry: { attempts: 3, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(100);
    expect(await outputs(h)).toEqual([{ type: 'attempt', payload: '{"attempt":3}' }]);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('an async handler that publishes and then rejects writes nothing', async () => {
    h = await startHarness((router) =>
      router.on('t', async (_message, ctx) => {
        ctx.publish('out', 'lost', {});
        await Promise.resolve();
        throw new NonRetryableError('bad order');
      }),
    );
    await h.add({ type: 't', payload: '{}' });
    await h.flush();
    expect((await h.dead()).map((entry) => entry.fields['x-dead-reason'])).toEqual(['non-retryable']);
    expect(await outputs(h)).toEqual([]);
  });

  it('a message dead-lettered after its last attempt writes no outputs', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', (_message, ctx) => {
          ctx.publish('out', 'lost', {});
          throw new Error('always');
        }),
      { consumer: { retry: { attempts: 2, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(100);
    expect((await h.dead()).map((entry) => entry.fields['x-dead-reason'])).toEqual(['handler-error']);
    expect(await outputs(h)).toEqual([]);
  });

  it('with several handlers, one that succeeded keeps its outputs; a failed one re-publishes on its retry', async () => {
    const runs: string[] = [];
    h = await startHarness(
      (router) =>
        router
          .on(
            't',
            (_message, ctx) => {
              runs.push(`a${ctx.attempt}`);
              ctx.publish('out', 'from-a', {});
            },
            { name: 'a' },
          )
          .on(
            't',
            (_message, ctx) => {
              runs.push(`b${ctx.attempt}`);
              ctx.publish('out', 'from-b', { attempt: ctx.attempt });
              if (ctx.attempt === 1) throw new Error('b fails once');
            },
            { name: 'b' },
          ),
      { consumer: { retry: { attempts: 2, backoff } } },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.advance(100);
    expect(runs).toEqual(['a1', 'b1', 'b2']);
    expect(await outputs(h)).toEqual([
      { type: 'from-a', payload: '{}' },
      { type: 'from-b', payload: '{"attempt":2}' },
    ]);
  });

  it('a message released by a stop stays pending and writes nothing', async () => {
    h = await startHarness((router) =>
      router.on('t', (_message, ctx) => {
        ctx.publish('out', 'lost', {});
        return new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
      }),
    );
    const id = await h.add({ type: 't', payload: '{}' });
    await h.stop();
    const harness = h;
    h = undefined;
    expect(await harness.pendingIds()).toEqual([id]);
    expect(await outputs(harness)).toEqual([]);
  });

  it('throws when called after its handler settled, saying the output would be lost', async () => {
    let late: unknown;
    let kept: ((stream: string, type: string) => void) | undefined;
    h = await startHarness((router) =>
      router.on('t', (_message, ctx) => {
        kept = (stream, type) => ctx.publish(stream, type, {});
      }),
    );
    await h.add({ type: 't', payload: '{}' });
    await h.flush();
    try {
      kept?.('out', 'late');
    } catch (error) {
      late = error;
    }
    expect(late).toBeInstanceOf(Error);
    expect((late as Error).message).toMatch(/after its handler settled.*use publish\(\)/);
    expect(await outputs(h)).toEqual([]);
  });

  it('refuses a target outside the consumed stream’s Cluster slot with a TypeError naming publish()', async () => {
    // A memory storage that answers sameSlot like a Redis Cluster does.
    class ClusterLike extends MemoryStreamStorage {
      sameSlot(a: string, b: string): boolean {
        return keySlot(a) === keySlot(b);
      }
    }
    const { storage, clock } = storageAtT0((c) => new ClusterLike({ clock: c }));
    const errors: unknown[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (_message, ctx) => {
          try {
            ctx.publish('out', 'elsewhere', {});
          } catch (error) {
            errors.push(error);
          }
          ctx.publish('{s}:out', 'same-slot', {});
        }),
      { storage, clock },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error).message).toMatch(
      /"out" to share the Redis Cluster slot of the consumed stream "s".*"\{s\}:out".*publish\(storage, …\).*at least once/,
    );
    expect(await outputs(h, '{s}:out')).toEqual([{ type: 'same-slot', payload: '{}' }]);
  });

  it('refuses to buffer on a storage without ackAndAdd, naming publish() instead', async () => {
    const { storage, clock } = storageAtT0((c) => new MemoryStreamStorage({ clock: c }));
    Object.defineProperty(storage, 'ackAndAdd', { value: undefined });
    const errors: unknown[] = [];
    h = await startHarness(
      (router) =>
        router.on('t', (_message, ctx) => {
          try {
            ctx.publish('out', 'x', {});
          } catch (error) {
            errors.push(error);
          }
        }),
      { storage, clock },
    );
    await h.add({ type: 't', payload: '{}' });
    await h.flush();
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error).message).toMatch(/`ackAndAdd`.*use publish\(storage, …\)/);
  });

  it('a bad argument throws at the call, like publish()', async () => {
    const errors: unknown[] = [];
    h = await startHarness((router) =>
      router.on('t', (_message, ctx) => {
        for (const call of [
          () => ctx.publish('', 'x', {}),
          () => ctx.publish('out', 'x', 1n),
          () => ctx.publish('out', 'x', {}, { partitions: 0 }),
        ]) {
          try {
            call();
          } catch (error) {
            errors.push(error);
          }
        }
      }),
    );
    await h.add({ type: 't', payload: '{}' });
    await h.flush();
    expect(errors.map((error) => (error as Error).constructor.name)).toEqual([
      'TypeError',
      'TypeError',
      'TypeError',
    ]);
    expect(await outputs(h)).toEqual([]);
  });

  it('an ackAndAdd that failed on the connection is sent again; the outputs are written once', async () => {
    class FlakyOnce extends MemoryStreamStorage {
      failures = 1;
      override async ackAndAdd(stream: string, group: string, id: string, entries: readonly EntryWrite[]) {
        if (this.failures-- > 0) {
          // The worst case: the script ran, and only its reply was lost.
          await super.ackAndAdd(stream, group, id, entries);
          throw new ConnectionError('connection lost');
        }
        return super.ackAndAdd(stream, group, id, entries);
      }
    }
    const { storage, clock } = storageAtT0((c) => new FlakyOnce({ clock: c }));
    h = await startHarness((router) => router.on('t', (_message, ctx) => ctx.publish('out', 'once', {})), {
      storage,
      clock,
    });
    const spy = vi.spyOn(storage, 'ackAndAdd');
    await h.add({ type: 't', payload: '{}' });
    await h.advance(500, 50);
    expect(spy.mock.calls.length).toBe(2);
    expect(await outputs(h)).toEqual([{ type: 'once', payload: '{}' }]);
    expect(await h.pendingIds()).toEqual([]);
  });
});
