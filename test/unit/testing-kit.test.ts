import { describe, expect, it } from 'vitest';
import { Router } from '../../src/index.js';
import { createTestRuntime } from '../../src/testing/index.js';

const consumer = { stream: 'events', group: 'bot', consumer: 'c1', blockMs: 1_000 };
const ID = 'events/bot/c1';

describe('createTestRuntime', () => {
  it('processes published messages on memory storage and acks them', async () => {
    const seen: unknown[] = [];
    const router = new Router().on('user.joined', async (message) => {
      seen.push(message.payload);
    });
    const t = createTestRuntime({ router, consumers: [consumer] });
    await t.start();
    expect(t.runtime.status).toBe('running');
    await t.publish('events', 'user.joined', { id: 1 });
    await t.publish('events', 'user.joined', { id: 2 }, { trace: 'abc' });
    expect(seen).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await t.storage.pending('events', 'bot', { count: 10 })).toEqual([]);
    expect(t.runtime.snapshot().consumers[0]).toMatchObject({ id: ID, processed: 2, state: 'polling' });
    expect(t.statesOf(ID).slice(0, 3)).toEqual(['creatingGroup', 'recovering', 'polling']);
    await t.stop();
    expect(t.runtime.status).toBe('stopped');
    expect(t.statesOf(ID).slice(-2)).toEqual(['draining', 'stopped']);
  });

  it('moves time deadline by deadline: empty reads return after blockMs', async () => {
    const t = createTestRuntime({ router: new Router(), consumers: [consumer] });
    await t.start();
    const start = t.clock.now();
    await t.advance(10_000);
    expect(t.clock.now()).toBe(start + 10_000);
    expect(t.stateOf(ID)).toBe('polling');
    await t.stop();
  });

  it('restarts a consumer whose group was destroyed, after the simulated backoff, losing nothing', async () => {
    const seen: number[] = [];
    const router = new Router().on('n', async (message) => {
      seen.push((message.payload as { n: number }).n);
    });
    const t = createTestRuntime({
      router,
      consumers: [consumer],
      supervisor: { backoff: { minMs: 100, maxMs: 1_000, randomFactor: 0 } },
    });
    await t.start();
    await t.publish('events', 'n', { n: 1 });
    await t.storage.destroyGroup('events', 'bot');
    await t.settle();
    const exitedAt = t.clock.now();
    expect(t.statesOf(ID)).toContain('exited');
    expect(t.stateOf(ID)).toBe('restarting');
    expect(t.runtime.snapshot().consumers[0]?.lastExit).toMatchObject({ reason: 'nogroup' });
    // Published while no consumer reads and no group exists.
    await t.publish('events', 'n', { n: 2 });
    await t.publish('events', 'n', { n: 3 });
    await t.advance(99);
    expect(t.stateOf(ID)).toBe('restarting');
    await t.waitForState(ID, 'polling', { maxMs: 1_000 });
    expect(t.clock.now() - exitedAt).toBe(100);
    expect(seen).toEqual([1, 2, 3]);
    expect(t.events.filter((e) => e.type === 'consumer.restarted')).toMatchObject([
      { consumerId: ID, reason: 'nogroup', restarts: 1 },
    ]);
    expect(t.runtime.snapshot().consumers[0]?.restarts).toBe(1);
    await t.stop();
  });

  it('resets the restart backoff once a restarted consumer has been healthy for resetAfterMs', async () => {
    const t = createTestRuntime({
      router: new Router().on('n', async () => {}),
      consumers: [consumer],
      supervisor: { backoff: { minMs: 100, maxMs: 10_000, randomFactor: 0 }, resetAfterMs: 5_000 },
    });
    await t.start();
    const restartDelay = async () => {
      await t.storage.destroyGroup('events', 'bot');
      await t.waitForState(ID, 'restarting', { maxMs: 10 });
      const exitedAt = t.clock.now();
      await t.waitForState(ID, 'recovering', { maxMs: 10_000 });
      const delay = t.clock.now() - exitedAt;
      await t.waitForState(ID, 'polling', { maxMs: 10 });
      return delay;
    };
    expect(await restartDelay()).toBe(100);
    expect(await restartDelay()).toBe(200);
    await t.publish('events', 'n'); // a successful read: the consumer reports healthy
    await t.advance(5_000);
    expect(await restartDelay()).toBe(100);
    await t.stop();
  });

  it('aborts a slow handler through ctx.signal at the stop deadline and leaves its message pending', async () => {
    let abortedAt: number | null = null;
    let started = false;
    const t = createTestRuntime({
      router: new Router().on('slow', (_message, ctx) => {
        started = true;
        return new Promise<void>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            abortedAt = t.clock.now();
            reject(ctx.signal.reason);
          });
        });
      }),
      consumers: [consumer],
    });
    await t.start();
    const id = await t.publish('events', 'slow');
    expect(started).toBe(true);
    const stopAt = t.clock.now();
    await t.stop({ timeoutMs: 2_000 });
    expect(abortedAt).toBe(stopAt + 2_000);
    expect(t.runtime.status).toBe('stopped');
    const pending = await t.storage.pending('events', 'bot', { count: 10 });
    expect(pending.map((p) => p.id)).toEqual([id]);
    expect(t.runtime.snapshot().consumers[0]).toMatchObject({ processed: 0, deadLettered: 0 });
  });

  it('waitForState throws with the states it saw', async () => {
    const t = createTestRuntime({ router: new Router(), consumers: [consumer] });
    await t.start();
    await expect(t.waitForState(ID, 'backoff', { maxMs: 3_000 })).rejects.toThrow(
      /did not reach "backoff".*now "polling"/,
    );
    expect(() => t.stateOf('nope')).toThrow(/one of "events\/bot\/c1"/);
    await t.stop();
  });
});
