import { describe, expect, it } from 'vitest';
import { AckBatcher } from '../../src/actors/consumer/ack-batcher.js';
import type { StreamStorage } from '../../src/storage/stream-storage.js';

// The batched XACK keeps up with whatever was handled: each round sends every id queued meanwhile
// (one XACK per `maxBatch` ids, all in flight together), so a consumer that handles more than
// `maxBatch` messages per round trip never falls behind on its acks.

interface PendingAck {
  ids: readonly string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A storage whose acks settle only when the test says so. */
function manualAcks() {
  const calls: PendingAck[] = [];
  const storage = {
    ack(_stream: string, _group: string, ids: readonly string[]): Promise<number> {
      return new Promise((resolve, reject) => {
        calls.push({ ids: [...ids], resolve: () => resolve(ids.length), reject });
      });
    },
  } as unknown as StreamStorage;
  return { storage, calls };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const ids = (from: number, count: number) => Array.from({ length: count }, (_, k) => `${from + k}-0`);

function batcher(storage: StreamStorage, errors: unknown[] = [], timers: (() => void)[] = []) {
  return new AckBatcher({
    storage,
    stream: 's',
    group: 'g',
    maxBatch: 1000,
    retryMs: 200,
    onError: (error) => errors.push(error),
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => undefined,
  });
}

describe('AckBatcher', () => {
  it('sends everything queued during an XACK in the next round, one XACK per maxBatch ids', async () => {
    const { storage, calls } = manualAcks();
    const acks = batcher(storage);
    acks.add('0-1');
    await turn();
    expect(calls.map((c) => c.ids.length)).toEqual([1]);
    for (const id of ids(1, 2500)) acks.add(id);
    calls[0]?.resolve();
    await turn();
    // All 2,500 leave at once, in three XACKs in flight together (the old batcher sent 1,000 and
    // queued the rest behind it, one round trip per 1,000).
    expect(calls.slice(1).map((c) => c.ids.length)).toEqual([1000, 1000, 500]);
    expect(calls.slice(1).flatMap((c) => c.ids)).toEqual(ids(1, 2500));
    expect(acks.unconfirmed().size).toBe(2500);
    for (const call of calls.slice(1)) call.resolve();
    await turn();
    expect(acks.unconfirmed().size).toBe(0);
    expect(calls).toHaveLength(4);
  });

  it('keeps up: the queue never holds more than one round of ids', async () => {
    const { storage, calls } = manualAcks();
    const acks = batcher(storage);
    let next = 0;
    let most = 0;
    // 40 round trips, 1,500 ids handled during each: more than one XACK's worth.
    for (let round = 0; round < 40; round++) {
      for (const id of ids(next, 1500)) acks.add(id);
      next += 1500;
      await turn();
      most = Math.max(most, acks.unconfirmed().size);
      for (const call of calls.splice(0)) call.resolve();
      await turn();
    }
    expect(most).toBeLessThanOrEqual(1500);
    for (let k = 0; k < 100 && acks.unconfirmed().size > 0; k++) {
      for (const call of calls.splice(0)) call.resolve();
      await turn();
    }
    expect(acks.unconfirmed().size).toBe(0);
  });

  it('after a retriable failure of one XACK, sends its ids again once the retry timer fires', async () => {
    const { storage, calls } = manualAcks();
    const timers: (() => void)[] = [];
    const errors: unknown[] = [];
    const acks = batcher(storage, errors, timers);
    for (const id of ids(0, 1500)) acks.add(id);
    await turn();
    expect(calls.map((c) => c.ids.length)).toEqual([1000, 500]);
    calls[0]?.resolve();
    calls[1]?.reject(Object.assign(new Error('connection reset'), { retriable: true }));
    await turn();
    expect(errors).toEqual([]);
    expect(timers).toHaveLength(1);
    expect(calls).toHaveLength(2);
    expect([...acks.unconfirmed()]).toEqual(ids(1000, 500));
    timers[0]?.();
    await turn();
    expect(calls[2]?.ids).toEqual(ids(1000, 500));
    calls[2]?.resolve();
    await turn();
    expect(acks.unconfirmed().size).toBe(0);
  });

  it('reports a failure that is not retriable once per round, however many XACKs it failed', async () => {
    const { storage, calls } = manualAcks();
    const errors: unknown[] = [];
    const acks = batcher(storage, errors);
    for (const id of ids(0, 2000)) acks.add(id);
    await turn();
    const nogroup = new Error('NOGROUP No such key or consumer group');
    for (const call of calls) call.reject(nogroup);
    await turn();
    expect(errors).toEqual([nogroup]);
    expect(acks.unconfirmed().size).toBe(0);
  });

  it('flush resolves after one failed try and leaves the ids queued', async () => {
    const { storage, calls } = manualAcks();
    const acks = batcher(storage);
    for (const id of ids(0, 10)) acks.add(id);
    const flushed = acks.flush();
    await turn();
    calls[0]?.reject(Object.assign(new Error('connection reset'), { retriable: true }));
    await flushed;
    expect(acks.unconfirmed().size).toBe(10);
  });
});
