import { afterEach, describe, expect, it, vi } from 'vitest';
import { assign, createActor, SimulatedClock, sendParent, setup } from 'xstate';
import type { ConsumerInput, ConsumerOutput } from '../../src/machines/consumer-machine.js';
import { type SupervisorInput, supervisorMachine } from '../../src/machines/supervisor-machine.js';
import {
  childSpec,
  scheduledDelays,
  stopAfterTest,
  stopStartedActors,
  supervisorInput,
  tick,
} from '../helpers/machine-stubs.js';

afterEach(stopStartedActors);

type StubEvent =
  | { type: 'test.exit'; reason: 'nogroup' | 'fatal'; lastId?: string }
  | { type: 'test.crash' }
  | { type: 'test.healthy' }
  | { type: 'test.drained' }
  | { type: 'stop'; timeoutMs: number };

/** A consumer double: exits, crashes, reports healthy or drains when the test says so. */
function stubConsumer(spawned: ConsumerInput[], stops: Array<{ id: string; timeoutMs: number }>) {
  return setup({
    types: {
      input: {} as ConsumerInput,
      context: {} as { input: ConsumerInput; output: ConsumerOutput },
      events: {} as StubEvent,
      output: {} as ConsumerOutput,
    },
  }).createMachine({
    context: ({ input }) => {
      spawned.push(input);
      return { input, output: { reason: 'stopped', error: null, lastId: null } };
    },
    output: ({ context }) => context.output,
    on: {
      'test.crash': {
        actions: () => {
          throw new Error('crashed');
        },
      },
    },
    initial: 'running',
    states: {
      running: {
        on: {
          'test.exit': {
            target: 'done',
            actions: assign({
              output: ({ event }) => ({
                reason: event.reason,
                error: `${event.reason}!`,
                lastId: event.lastId ?? null,
              }),
            }),
          },
          'test.healthy': {
            actions: sendParent(({ context }) => ({ type: 'consumer.healthy', id: context.input.id })),
          },
          'test.drained': 'done',
          stop: {
            target: 'draining',
            actions: ({ context, event }) => stops.push({ id: context.input.id, timeoutMs: event.timeoutMs }),
          },
        },
      },
      draining: { on: { 'test.drained': 'done' } },
      done: { type: 'final' },
    },
  });
}

function setupSupervisor(overrides: Partial<SupervisorInput> = {}) {
  const spawned: ConsumerInput[] = [];
  const stops: Array<{ id: string; timeoutMs: number }> = [];
  const report = vi.fn();
  const machine = supervisorMachine.provide({
    actors: { consumer: stubConsumer(spawned, stops) as never },
    actions: { report: ({ event }, params) => report(params.kind, (event as { actorId?: string }).actorId) },
  });
  const clock = new SimulatedClock();
  const actor = stopAfterTest(createActor(machine, { clock, input: supervisorInput(overrides) }));
  actor.start();
  const child = (id: string) => {
    const ref = actor.getSnapshot().children[id];
    if (!ref) throw new Error(`No live child "${id}"`);
    return ref;
  };
  const send = (id: string, event: StubEvent) => child(id).send(event as never);
  const context = () => actor.getSnapshot().context;
  const value = () => actor.getSnapshot().value;
  const restartDelays = () => scheduledDelays(actor).restart ?? [];
  return { spawned, stops, report, clock, actor, child, send, context, value, restartDelays };
}

type Harness = ReturnType<typeof setupSupervisor>;

/** Make child `id` exit and wait out its restart; returns the restart delay. */
async function crashAndRestart(h: Harness, id = 'a', reason: 'nogroup' | 'fatal' = 'nogroup') {
  h.send(id, { type: 'test.exit', reason });
  const [delay] = h.restartDelays();
  expect(h.context().live[id]).toBe(false);
  await tick(h.clock, delay! - 1);
  expect(h.context().live[id]).toBe(false);
  await tick(h.clock, 1);
  expect(h.context().live[id]).toBe(true);
  return delay!;
}

describe('supervisor machine', () => {
  it('spawns every child as incarnation 1', () => {
    const h = setupSupervisor({ children: [childSpec('a'), childSpec('b')] });
    expect(h.value()).toBe('running');
    expect(h.spawned.map((i) => [i.id, i.session, i.lastId])).toEqual([
      ['a', 'a#1', null],
      ['b', 'b#1', null],
    ]);
    expect(h.context().live).toEqual({ a: true, b: true });
  });

  it('restarts a child that exited after the Akka delays 100/200/400 (min 100, randomFactor 0)', async () => {
    const h = setupSupervisor({ backoff: { minMs: 100, maxMs: 10_000, randomFactor: 0 } });
    const delays = [
      await crashAndRestart(h),
      await crashAndRestart(h, 'a', 'fatal'),
      await crashAndRestart(h),
    ];
    expect(delays).toEqual([100, 200, 400]);
    expect(h.spawned.map((i) => i.session)).toEqual(['a#1', 'a#2', 'a#3', 'a#4']);
    expect(h.context().restarts.a).toBe(3);
    expect(h.report.mock.calls.map(([kind]) => kind)).toEqual([
      'exited',
      'restart.scheduled',
      'restarted',
      'exited',
      'restart.scheduled',
      'restarted',
      'exited',
      'restart.scheduled',
      'restarted',
    ]);
  });

  it('caps the delay at maxMs', async () => {
    const h = setupSupervisor({ backoff: { minMs: 100, maxMs: 250, randomFactor: 0 } });
    const delays = [await crashAndRestart(h), await crashAndRestart(h), await crashAndRestart(h)];
    expect(delays).toEqual([100, 200, 250]);
  });

  it('hands the new incarnation the last id the previous one saw', async () => {
    const h = setupSupervisor();
    h.send('a', { type: 'test.exit', reason: 'nogroup', lastId: '77-0' });
    await tick(h.clock, 100);
    expect(h.spawned.at(-1)).toMatchObject({ session: 'a#2', lastId: '77-0' });
    // An incarnation that saw nothing keeps the older id.
    h.send('a', { type: 'test.exit', reason: 'nogroup' });
    await tick(h.clock, 200);
    expect(h.spawned.at(-1)).toMatchObject({ session: 'a#3', lastId: '77-0' });
  });

  it('restarts a child that crashed (error instead of exit)', async () => {
    const h = setupSupervisor();
    h.send('a', { type: 'test.crash' });
    expect(h.context().live.a).toBe(false);
    expect(h.restartDelays()).toEqual([100]);
    await tick(h.clock, 100);
    expect(h.context().live.a).toBe(true);
  });

  it('does not restart a child that stopped normally', async () => {
    const h = setupSupervisor();
    h.send('a', { type: 'test.drained' });
    expect(h.context().live.a).toBe(false);
    await tick(h.clock, 60_000);
    expect(h.context().live.a).toBe(false);
    expect(h.spawned).toHaveLength(1);
    expect(h.value()).toBe('running');
  });

  it('escalates to failed past maxRestarts within periodMs and stops every child', async () => {
    const h = setupSupervisor({ children: [childSpec('a'), childSpec('b')], maxRestarts: 3 });
    for (let i = 0; i < 3; i++) await crashAndRestart(h);
    const b = h.child('b');
    h.send('a', { type: 'test.exit', reason: 'fatal' });
    const snapshot = h.actor.getSnapshot();
    expect(snapshot.value).toBe('failed');
    expect(snapshot.status).toBe('done');
    expect(snapshot.output).toEqual({ reason: 'failed', consumerId: 'a', error: 'fatal!' });
    expect(b.getSnapshot().status).toBe('stopped');
    expect(h.report).toHaveBeenLastCalledWith('failed', 'a');
  });

  it('with maxRestarts 0 the first exit escalates', () => {
    const h = setupSupervisor({ maxRestarts: 0 });
    h.send('a', { type: 'test.crash' });
    expect(h.actor.getSnapshot().output).toEqual({ reason: 'failed', consumerId: 'a', error: 'crashed' });
    // A crash (an error, not an exit) is recorded as reason fatal.
    expect(h.actor.getSnapshot().context.failure).toEqual({
      consumerId: 'a',
      reason: 'fatal',
      error: 'crashed',
    });
  });

  it('an exit past the limit records its own reason and error', () => {
    const h = setupSupervisor({ maxRestarts: 0 });
    h.send('a', { type: 'test.exit', reason: 'nogroup' });
    expect(h.actor.getSnapshot().context.failure).toEqual({
      consumerId: 'a',
      reason: 'nogroup',
      error: 'nogroup!',
    });
  });

  it('counts restarts in a sliding window: old ones expire after periodMs', async () => {
    const h = setupSupervisor({
      maxRestarts: 2,
      periodMs: 1_000,
      backoff: { minMs: 100, maxMs: 100, randomFactor: 0 },
    });
    await crashAndRestart(h); // t=0 exit, window 1
    await tick(h.clock, 400);
    await crashAndRestart(h); // t=500 exit, window 2
    expect(h.context().restartsInWindow).toBe(2);
    await tick(h.clock, 399); // t=999: the first has not expired yet
    expect(h.context().restartsInWindow).toBe(2);
    await tick(h.clock, 1); // t=1000: it has
    expect(h.context().restartsInWindow).toBe(1);
    await crashAndRestart(h); // a third exit, but only two in the window
    expect(h.value()).toBe('running');
    expect(h.context().restartsInWindow).toBe(2);
    h.send('a', { type: 'test.exit', reason: 'nogroup' }); // three in the window
    expect(h.value()).toBe('failed');
  });

  it('window.expire never counts below zero', () => {
    const h = setupSupervisor();
    h.actor.send({ type: 'window.expire' });
    expect(h.context().restartsInWindow).toBe(0);
  });

  it('resets a child backoff after resetAfterMs of health', async () => {
    const h = setupSupervisor({ resetAfterMs: 5_000 });
    expect([await crashAndRestart(h), await crashAndRestart(h)]).toEqual([100, 200]);
    h.send('a', { type: 'test.healthy' });
    await tick(h.clock, 4_999);
    expect(h.context().attempts.a).toBe(2);
    await tick(h.clock, 1);
    expect(h.context().attempts.a).toBe(0);
    expect(await crashAndRestart(h)).toBe(100);
  });

  it('does not reset the backoff when the child exits before resetAfterMs', async () => {
    const h = setupSupervisor({ resetAfterMs: 5_000 });
    await crashAndRestart(h);
    h.send('a', { type: 'test.healthy' });
    await tick(h.clock, 1_000);
    expect(await crashAndRestart(h)).toBe(200);
    await tick(h.clock, 10_000); // the cancelled reset never fires
    expect(h.context().attempts.a).toBe(2);
  });

  it('stop drains every live child with the timeout, then stops', () => {
    const h = setupSupervisor({ children: [childSpec('a'), childSpec('b')] });
    h.actor.send({ type: 'stop', timeoutMs: 3_000 });
    expect(h.value()).toBe('stopping');
    expect(h.stops).toEqual([
      { id: 'a', timeoutMs: 3_000 },
      { id: 'b', timeoutMs: 3_000 },
    ]);
    h.send('a', { type: 'test.drained' });
    expect(h.value()).toBe('stopping');
    h.send('b', { type: 'test.drained' });
    expect(h.actor.getSnapshot().value).toBe('stopped');
    expect(h.actor.getSnapshot().output).toEqual({ reason: 'stopped', consumerId: null, error: null });
  });

  it('a child that exits or crashes while stopping is not restarted', async () => {
    const h = setupSupervisor({ children: [childSpec('a'), childSpec('b')] });
    h.actor.send({ type: 'stop', timeoutMs: 10 });
    h.send('a', { type: 'test.drained' });
    h.send('b', { type: 'test.crash' });
    expect(h.actor.getSnapshot().value).toBe('stopped');
    expect(h.spawned).toHaveLength(2);
  });

  it('stop while a restart is pending cancels it', async () => {
    const h = setupSupervisor({ children: [childSpec('a'), childSpec('b')] });
    h.send('a', { type: 'test.exit', reason: 'nogroup' });
    expect(h.restartDelays()).toEqual([100]);
    h.actor.send({ type: 'stop', timeoutMs: 10 });
    expect(h.restartDelays()).toEqual([]);
    expect(h.stops.map((s) => s.id)).toEqual(['b']);
    await tick(h.clock, 1_000);
    expect(h.spawned).toHaveLength(2);
    h.send('b', { type: 'test.drained' });
    expect(h.actor.getSnapshot().value).toBe('stopped');
  });

  it('stop with no live child stops at once', () => {
    const h = setupSupervisor();
    h.send('a', { type: 'test.exit', reason: 'nogroup' });
    h.actor.send({ type: 'stop', timeoutMs: 10 });
    expect(h.actor.getSnapshot().value).toBe('stopped');
  });

  it('a late restart for a live child is ignored', () => {
    const h = setupSupervisor();
    h.actor.send({ type: 'restart', id: 'a' });
    h.actor.send({ type: 'restart', id: 'nobody' });
    expect(h.spawned).toHaveLength(1);
    expect(h.context().restarts.a).toBe(0);
  });
});
