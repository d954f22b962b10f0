import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, createMachine, fromCallback, SimulatedClock } from 'xstate';
import {
  type ConsumerEvent,
  type ConsumerInput,
  consumerMachine,
  type IoInput,
  type ReadOutput,
} from '../../src/machines/consumer-machine.js';
import {
  connectionLost,
  consumerInput,
  controllable,
  fatalError,
  flushPromises,
  noGroup,
  scheduledDelays,
  stopAfterTest,
  stopStartedActors,
  tick,
} from '../helpers/machine-stubs.js';

afterEach(stopStartedActors);

type GroupInput = {
  id: string;
  session: string;
  stream: string;
  group: string;
  startId: string;
  remembered: boolean;
};
type DrainInput = IoInput & { timeoutMs: number | null };

/**
 * Read loops started by `polling`'s `read` action, answered as the session would: `resolve` is one
 * of the loop's answers (its first read, or the one after which it stops: `ready` false), `reject`
 * its failure; the reads in between send nothing.
 */
function reads() {
  const calls: Array<{
    resolve(output: ReadOutput): void;
    reject(error: unknown, lastId?: string | null): void;
  }> = [];
  return {
    calls,
    /** `consumer` started a read loop (the action's `self`). */
    start: (consumer: { send(event: ConsumerEvent): void }) =>
      calls.push({
        resolve: (output) => consumer.send({ type: 'io.read.done', output }),
        reject: (error, lastId = null) => consumer.send({ type: 'io.read.failed', error, lastId }),
      }),
    last() {
      const call = calls[calls.length - 1];
      if (call === undefined) throw new Error('no read was asked for');
      return call;
    },
  };
}

function setupConsumer(overrides: Partial<ConsumerInput> = {}) {
  const createGroup = controllable<{ created: boolean; now: number; rewoundTo?: string }, GroupInput>();
  const recover = controllable<{ lastId: string | null; now: number }, IoInput>();
  // polling's `read` action: each call starts a read loop, answered by resolve / reject (the
  // session's io.read.done / io.read.failed).
  const poll = reads();
  const drain = controllable<{ lastId: string | null }, DrainInput>();
  const report = vi.fn();
  const awaitCapacity = vi.fn();
  const sessions: IoInput[] = [];
  const machine = consumerMachine.provide({
    actors: {
      createGroup: createGroup.logic,
      recover: recover.logic,
      drain: drain.logic,
      io: fromCallback<{ type: string }, IoInput>(({ input }) => {
        sessions.push(input);
      }),
    },
    actions: {
      report: (_, params) => report(params.kind),
      awaitCapacity: () => awaitCapacity(),
      read: ({ self }) => poll.start(self),
    },
  });
  const clock = new SimulatedClock();
  const actor = stopAfterTest(createActor(machine, { clock, input: consumerInput(overrides) }));
  const value = () => actor.getSnapshot().value;
  return { createGroup, recover, poll, drain, report, awaitCapacity, sessions, machine, clock, actor, value };
}

type Harness = ReturnType<typeof setupConsumer>;

/** creatingGroup → recovering → polling at time `now`. */
async function toPolling(h: Harness, now = 0): Promise<void> {
  h.actor.start();
  h.createGroup.last().resolve({ created: true, now });
  await flushPromises();
  h.recover.last().resolve({ lastId: null, now });
  await flushPromises();
  expect(h.value()).toBe('polling');
}

async function toDispatching(h: Harness, now = 0): Promise<void> {
  await toPolling(h, now);
  h.poll.last().resolve({ count: 1, lastId: '5-0', now, ready: false });
  await flushPromises();
  expect(h.value()).toBe('dispatching');
}

async function toBackoff(h: Harness): Promise<void> {
  h.actor.start();
  h.createGroup.last().reject(connectionLost());
  await flushPromises();
  expect(h.value()).toBe('backoff');
}

describe('consumer machine', () => {
  it('starts: spawns its workers and session, creates the group at startId, recovers, polls', async () => {
    const h = setupConsumer({ concurrency: 3 });
    h.actor.start();
    expect(h.value()).toBe('creatingGroup');
    expect(Object.keys(h.actor.getSnapshot().children).sort()).toEqual([
      'createGroup',
      'io',
      'w0',
      'w1',
      'w2',
    ]);
    // Each worker gets the worker options, its incarnation's session and its own id.
    expect(h.actor.system.get('c#1/w2')?.getSnapshot().context).toMatchObject({
      session: 'c#1',
      workerId: 'w2',
      attempts: 3,
      hasScheduler: false,
    });
    expect(h.sessions).toEqual([{ session: 'c#1', id: 'c', concurrency: 3 }]);
    expect(h.createGroup.last().input).toEqual({
      id: 'c',
      session: 'c#1',
      stream: 's',
      group: 'g',
      startId: '$',
      remembered: false,
    });
    h.createGroup.last().resolve({ created: true, now: 1_000 });
    await flushPromises();
    expect(h.value()).toBe('recovering');
    expect(h.report).toHaveBeenCalledWith('group.created');
    expect(h.recover.last().input).toEqual({ session: 'c#1', id: 'c' });
    h.recover.last().resolve({ lastId: '3-0', now: 1_000 });
    await flushPromises();
    expect(h.value()).toBe('polling');
    expect(h.actor.getSnapshot().context).toMatchObject({ lastRecoveryAt: 1_000, lastId: '3-0' });
  });

  it('recreates the group at the last id the previous incarnation saw', async () => {
    const h = setupConsumer({ lastId: '42-7' });
    h.actor.start();
    expect(h.createGroup.last().input.startId).toBe('42-7');
  });

  it('polling → dispatching hands the batch over and waits for capacity; tracks the newest id', async () => {
    const h = setupConsumer();
    await toPolling(h);
    expect(h.poll.calls).toHaveLength(1);
    h.poll.last().resolve({ count: 2, lastId: '9-1', now: 10, ready: false });
    await flushPromises();
    expect(h.value()).toBe('dispatching');
    expect(h.awaitCapacity).toHaveBeenCalledTimes(1);
    expect(h.actor.getSnapshot().context).toMatchObject({ lastId: '9-1', healthy: true, backoffAttempt: 0 });
    h.actor.send({ type: 'io.capacity', now: 20 });
    expect(h.value()).toBe('polling');
    h.poll.last().resolve({ count: 0, lastId: null, now: 30, ready: false });
    await flushPromises();
    expect(h.actor.getSnapshot().context.lastId).toBe('9-1');
  });

  it('stays polling while the read loop goes on; its last read leads to dispatching', async () => {
    const h = setupConsumer({ claimIntervalMs: 30_000 });
    await toPolling(h, 1_000);
    const loop = h.poll.last();
    loop.resolve({ count: 1, lastId: '7-0', now: 1_010, ready: true });
    await flushPromises();
    // The loop's first read: still polling, the id recorded, no new loop, no wait for capacity.
    expect(h.value()).toBe('polling');
    expect(h.poll.calls).toHaveLength(1);
    expect(h.awaitCapacity).not.toHaveBeenCalled();
    expect(h.actor.getSnapshot().context).toMatchObject({ lastId: '7-0', healthy: true });
    // The loop stopped (here: a recovery is due): dispatching first, then recovering on io.capacity.
    loop.resolve({ count: 1, lastId: '8-0', now: 31_000, ready: false });
    await flushPromises();
    expect(h.value()).toBe('dispatching');
    expect(h.actor.getSnapshot().context.lastId).toBe('8-0');
    h.actor.send({ type: 'io.capacity', now: 31_000 });
    expect(h.value()).toBe('recovering');
  });

  it('records the newest id the loop read when it fails, and the one the drain answers', async () => {
    const h = setupConsumer();
    await toPolling(h);
    h.poll.last().reject(connectionLost(), '12-0');
    await flushPromises();
    expect(h.value()).toBe('backoff');
    await tick(h.clock, 100);
    // The group is recreated where the loop got to, not where the machine last heard of.
    expect(h.createGroup.last().input.startId).toBe('12-0');
    h.createGroup.last().resolve({ created: false, now: 0 });
    await flushPromises();
    h.actor.send({ type: 'stop', timeoutMs: 10 });
    h.drain.last().resolve({ lastId: '15-0' });
    await flushPromises();
    expect(h.actor.getSnapshot().output).toMatchObject({ reason: 'stopped', lastId: '15-0' });
  });

  it('goes back to recovering once claimIntervalMs has passed since the last recovery', async () => {
    const h = setupConsumer({ claimIntervalMs: 30_000 });
    await toDispatching(h, 1_000);
    h.actor.send({ type: 'io.capacity', now: 30_999 });
    expect(h.value()).toBe('polling');
    h.poll.last().resolve({ count: 1, lastId: '6-0', now: 31_000, ready: false });
    await flushPromises();
    h.actor.send({ type: 'io.capacity', now: 31_000 });
    expect(h.value()).toBe('recovering');
    h.recover.last().resolve({ lastId: null, now: 31_005 });
    await flushPromises();
    expect(h.actor.getSnapshot().context.lastRecoveryAt).toBe(31_005);
  });

  describe('NOGROUP ends the incarnation: draining → exited with reason nogroup', () => {
    const cases: Array<[string, (h: Harness) => Promise<void>]> = [
      [
        'read',
        async (h) => {
          await toPolling(h);
          h.poll.last().reject(noGroup());
        },
      ],
      [
        'claim',
        async (h) => {
          h.actor.start();
          h.createGroup.last().resolve({ created: false, now: 0 });
          await flushPromises();
          h.recover.last().reject(noGroup());
        },
      ],
      [
        'ack (io.failed)',
        async (h) => {
          await toDispatching(h);
          h.actor.send({ type: 'io.failed', reason: 'nogroup', error: noGroup().message });
        },
      ],
    ];
    it.each(cases)('from %s', async (_name, fault) => {
      const h = setupConsumer();
      await fault(h);
      await flushPromises();
      expect(h.value()).toBe('draining');
      expect(h.report).toHaveBeenCalledWith('draining');
      expect(h.drain.last().input).toEqual({ session: 'c#1', id: 'c', timeoutMs: null });
      h.drain.last().resolve({ lastId: null });
      await flushPromises();
      const snapshot = h.actor.getSnapshot();
      expect(snapshot.value).toBe('exited');
      expect(snapshot.status).toBe('done');
      expect(snapshot.output).toMatchObject({ reason: 'nogroup', error: noGroup().message });
      // Reaching a final state stops the workers and the session.
      const children = Object.values(snapshot.children).map((child) => child?.getSnapshot().status);
      expect(children).toEqual(['stopped', 'stopped', 'stopped']);
    });
  });

  it('a NOGROUP from createGroup (not retriable) exits with reason nogroup, not fatal', async () => {
    const h = setupConsumer();
    h.actor.start();
    h.createGroup.last().reject(noGroup());
    await flushPromises();
    expect(h.value()).toBe('draining');
    h.drain.last().resolve({ lastId: null });
    await flushPromises();
    expect(h.actor.getSnapshot().output).toMatchObject({ reason: 'nogroup', error: noGroup().message });
  });

  it.each([
    ['creatingGroup', 'createGroup'],
    ['recovering', 'recover'],
    ['polling', 'poll'],
  ] as const)('a non-retriable error in %s exits with reason fatal', async (state, actorName) => {
    const h = setupConsumer();
    h.actor.start();
    if (state !== 'creatingGroup') {
      h.createGroup.last().resolve({ created: true, now: 0 });
      await flushPromises();
    }
    if (state === 'polling') {
      h.recover.last().resolve({ lastId: null, now: 0 });
      await flushPromises();
    }
    expect(h.value()).toBe(state);
    h[actorName].last().reject(fatalError());
    await flushPromises();
    expect(h.value()).toBe('draining');
    h.drain.last().resolve({ lastId: null });
    await flushPromises();
    expect(h.actor.getSnapshot().output).toMatchObject({ reason: 'fatal', error: fatalError().message });
  });

  it('io.failed with reason fatal drains and exits fatal; a drain error still ends it', async () => {
    const h = setupConsumer();
    await toDispatching(h);
    h.actor.send({ type: 'io.failed', reason: 'fatal', error: 'WRONGTYPE' });
    expect(h.value()).toBe('draining');
    h.drain.last().reject(new Error('drain broke'));
    await flushPromises();
    expect(h.actor.getSnapshot().output).toEqual({ reason: 'fatal', error: 'WRONGTYPE', lastId: '5-0' });
  });

  it('connection errors back off with exact exponential delays, then recreate the group', async () => {
    const h = setupConsumer({ backoff: { initialMs: 100, maxMs: 1_000 } });
    await toBackoff(h);
    expect(h.report).toHaveBeenCalledWith('backoff');
    expect(h.actor.getSnapshot().context.error).toBe('Connection is closed');
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(h.actor.getSnapshot().context.backoffAttempt).toBe(attempt);
      const [delay] = Object.values(scheduledDelays(h.actor)).flat();
      delays.push(delay!);
      await tick(h.clock, delay! - 1);
      expect(h.value()).toBe('backoff');
      await tick(h.clock, 1);
      expect(h.value()).toBe('creatingGroup');
      h.createGroup.last().reject(connectionLost());
      await flushPromises();
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000]);
  });

  it.each(['recover', 'poll'] as const)('a connection error in %s backs off', async (actorName) => {
    const h = setupConsumer({ claimIntervalMs: 30_000 });
    await toPolling(h, 0);
    if (actorName === 'recover') {
      h.poll.last().resolve({ count: 1, lastId: '1-0', now: 40_000, ready: false });
      await flushPromises();
      h.actor.send({ type: 'io.capacity', now: 40_000 });
      expect(h.value()).toBe('recovering');
    }
    h[actorName].last().reject(connectionLost());
    await flushPromises();
    expect(h.value()).toBe('backoff');
  });

  it('a successful read resets the backoff; after backoff a recent recovery is not repeated', async () => {
    const h = setupConsumer();
    await toPolling(h, 0);
    h.poll.last().reject(connectionLost());
    await flushPromises();
    await tick(h.clock, 100);
    expect(h.value()).toBe('creatingGroup');
    h.createGroup.last().resolve({ created: false, now: 100 });
    await flushPromises();
    expect(h.value()).toBe('polling');
    h.poll.last().reject(connectionLost());
    await flushPromises();
    expect(scheduledDelays(h.actor)['xstate.after.backoffDelay.consumer.backoff']).toEqual([200]);
    await tick(h.clock, 200);
    h.createGroup.last().resolve({ created: false, now: 300 });
    await flushPromises();
    h.poll.last().resolve({ count: 0, lastId: null, now: 300, ready: false });
    await flushPromises();
    expect(h.actor.getSnapshot().context.backoffAttempt).toBe(0);
    h.actor.send({ type: 'io.capacity', now: 300 });
    h.poll.last().reject(connectionLost());
    await flushPromises();
    expect(scheduledDelays(h.actor)['xstate.after.backoffDelay.consumer.backoff']).toEqual([100]);
  });

  it('after backoff, recovers again when the claim interval has passed', async () => {
    const h = setupConsumer({ claimIntervalMs: 1_000 });
    await toPolling(h, 0);
    h.poll.last().reject(connectionLost());
    await flushPromises();
    await tick(h.clock, 100);
    h.createGroup.last().resolve({ created: false, now: 1_000 });
    await flushPromises();
    expect(h.value()).toBe('recovering');
  });

  it('uses a provided backoffDelay', async () => {
    const h = setupConsumer();
    const machine = h.machine.provide({ delays: { backoffDelay: 7 } });
    const clock = new SimulatedClock();
    const actor = stopAfterTest(createActor(machine, { clock, input: consumerInput() }));
    actor.start();
    h.createGroup.last().reject(connectionLost());
    await flushPromises();
    await tick(clock, 6);
    expect(actor.getSnapshot().value).toBe('backoff');
    await tick(clock, 1);
    expect(actor.getSnapshot().value).toBe('creatingGroup');
  });

  describe('stop from each state → draining → stopped', () => {
    const reach: Record<string, (h: Harness) => Promise<void>> = {
      creatingGroup: async (h) => {
        h.actor.start();
      },
      recovering: async (h) => {
        h.actor.start();
        h.createGroup.last().resolve({ created: true, now: 0 });
        await flushPromises();
      },
      polling: (h) => toPolling(h),
      dispatching: (h) => toDispatching(h),
      backoff: (h) => toBackoff(h),
    };
    // The invocation each state owns, if any (polling asks `io` to read; dispatching and backoff wait
    // on events and timers).
    const ownInvoke: Record<string, 'createGroup' | 'recover' | null> = {
      creatingGroup: 'createGroup',
      recovering: 'recover',
      polling: null,
      dispatching: null,
      backoff: null,
    };
    it.each(Object.keys(reach))('from %s', async (state) => {
      const h = setupConsumer();
      await reach[state]!(h);
      expect(h.value()).toBe(state);
      const own = ownInvoke[state] ?? null;
      const invoked = Object.keys(h.actor.getSnapshot().children).filter((id) =>
        ['createGroup', 'recover'].includes(id),
      );
      expect(invoked).toEqual(own === null ? [] : [own]);
      const signals = own === null ? [] : [h[own].last().signal];
      h.actor.send({ type: 'stop', timeoutMs: 1_234 });
      expect(h.value()).toBe('draining');
      // The state's own invocation is cancelled (a read in flight is abandoned, its entries stay pending).
      expect(signals.map((signal) => signal.aborted)).toEqual(own === null ? [] : [true]);
      expect(scheduledDelays(h.actor)).toEqual({});
      expect(h.drain.last().input.timeoutMs).toBe(1_234);
      h.actor.send({ type: 'stop', timeoutMs: 1 });
      h.actor.send({ type: 'io.failed', reason: 'nogroup', error: 'late' });
      // A read that was in flight answers late: ignored (what it read stays pending).
      if (state === 'polling') h.poll.last().resolve({ count: 1, lastId: '99-0', now: 0, ready: true });
      expect(h.value()).toBe('draining');
      expect(h.drain.calls).toHaveLength(1);
      h.drain.last().resolve({ lastId: null });
      await flushPromises();
      expect(h.actor.getSnapshot().value).toBe('stopped');
      expect(h.actor.getSnapshot().output).toMatchObject({ reason: 'stopped' });
    });

    it('a drain error after stop still ends in stopped', async () => {
      const h = setupConsumer();
      await toPolling(h);
      h.actor.send({ type: 'stop', timeoutMs: 10 });
      h.drain.last().reject(new Error('nope'));
      await flushPromises();
      expect(h.actor.getSnapshot().value).toBe('stopped');
    });
  });

  it('tells its parent once that it is healthy, on the first successful read', async () => {
    const h = setupConsumer();
    const received: unknown[] = [];
    const parent = createMachine({
      invoke: { id: 'c', src: h.machine, input: consumerInput() },
      on: { 'consumer.healthy': { actions: ({ event }) => received.push(event) } },
    });
    const actor = stopAfterTest(createActor(parent, { clock: new SimulatedClock() }));
    actor.start();
    h.createGroup.last().resolve({ created: true, now: 0 });
    await flushPromises();
    h.recover.last().resolve({ lastId: null, now: 0 });
    await flushPromises();
    for (let i = 0; i < 3; i++) {
      h.poll.last().resolve({ count: 1, lastId: `${i + 1}-0`, now: 0, ready: i !== 1 });
      await flushPromises();
      actor.getSnapshot().children.c?.send({ type: 'io.capacity', now: 0 });
    }
    expect(received).toEqual([{ type: 'consumer.healthy', id: 'c' }]);
  });
});
