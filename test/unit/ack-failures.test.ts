import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, startHarness, T0 } from './retry-support.js';

// A batched XACK that fails: a retriable error (a connection blip) sends the batch again 200 ms
// later; any other error ends the consumer's incarnation, and the message is handled again by the next.

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

/** Memory storage whose next `failures` acks reject with `error`. */
function failingAcks(error: Error, failures: number) {
  const clock = new SimulatedClock();
  clock.set(T0);
  class FailingAcks extends MemoryStreamStorage {
    failures = failures;
    override ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
      if (this.failures-- > 0) return Promise.reject(error);
      return super.ack(stream, group, ids);
    }
  }
  return { clock, storage: new FailingAcks({ clock }) };
}

describe('an ack that fails', () => {
  it('with a retriable error is sent again 200 ms later; the handler ran once', async () => {
    const { clock, storage } = failingAcks(
      Object.assign(new Error('connection reset'), { retriable: true }),
      1,
    );
    let calls = 0;
    h = await startHarness((router) => router.on('t', () => void calls++), { clock, storage });
    const id = await h.add({ type: 't', payload: '{}' });
    await h.advance(199, 50);
    expect(await h.pendingIds()).toEqual([id]);
    await h.advance(1);
    expect(await h.pendingIds()).toEqual([]);
    expect(calls).toBe(1);
    expect(h.events.filter((e) => e.type === 'consumer.exited')).toEqual([]);
  });

  it('with another error ends the incarnation (fatal); the restarted consumer handles the message again and acks it', async () => {
    const { clock, storage } = failingAcks(new Error('WRONGTYPE Operation against a key'), 1);
    let calls = 0;
    h = await startHarness((router) => router.on('t', () => void calls++), { clock, storage });
    const id = await h.add({ type: 't', payload: '{}' });
    expect(h.events.filter((e) => e.type === 'consumer.exited')).toEqual([
      expect.objectContaining({ reason: 'fatal', error: 'WRONGTYPE Operation against a key' }),
    ]);
    await h.advance(5_000, 100);
    expect(calls).toBe(2);
    expect(await h.pendingIds()).not.toContain(id);
  });
});
