import { describe, expect, it } from 'vitest';
import {
  type AnyActorRef,
  type AnyEventObject,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  assign,
  createActor,
  fromCallback,
  SimulatedClock,
  setup,
} from 'xstate';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  type ConsumerInput,
  type ConsumerOutput,
  consumerMachine,
} from '../../src/machines/consumer-machine.js';
import { dispatchWorkerMachine } from '../../src/machines/dispatch-worker-machine.js';
import { supervisorMachine } from '../../src/machines/supervisor-machine.js';
import {
  connectionLost,
  consumerInput,
  controllable,
  fatalError,
  flushPromises,
  noGroup,
  scheduledDelays,
  supervisorInput,
  workerInput,
} from '../helpers/machine-stubs.js';
import {
  type AnyPath,
  Coverage,
  describePath,
  edgePaths,
  expectFullCoverage,
  type Replayer,
  replayPath,
} from '../helpers/path-replay.js';

type Snap = AnyPath['state'];

/** Generate simple paths and one-step extensions of shortest paths (every edge) for a machine. */
function generate(
  machine: AnyStateMachine,
  options: Record<string, unknown>,
  serialize: (s: Snap) => string,
) {
  const traversal = {
    ...options,
    serializeState: serialize,
    // A done actor takes no events, but `can()` still evaluates the root's handlers on a final state;
    // and `can()` is false for a declared no-op (`on: { stop: {} }`), which we want taken too.
    filterEvents: (snapshot: Snap, event: AnyEventObject) =>
      snapshot.status === 'active' &&
      (snapshot.can(event) || declaresNoop(snapshot, event)) &&
      ((options.allow as ((s: Snap, e: AnyEventObject) => boolean) | undefined)?.(snapshot, event) ?? true),
  };
  const simple = getSimplePaths(machine, traversal) as AnyPath[];
  const shortest = getShortestPaths(machine, traversal) as AnyPath[];
  const adjacency = getAdjacencyMap(machine, traversal) as unknown as Parameters<typeof edgePaths>[1];
  return { simple, shortest, edges: edgePaths(shortest, adjacency, serialize) };
}

/** Whether the active state itself declares `event` as a no-op (no target, no actions). */
function declaresNoop(snapshot: Snap, event: AnyEventObject): boolean {
  return (snapshot._nodes as AnyStateNode[]).some((node) =>
    (node.transitions.get(event.type) ?? []).some(
      (t: AnyTransitionDefinition) =>
        t.target === undefined && t.actions.length === 0 && t.guard === undefined,
    ),
  );
}

/** Resolve or reject the stub an invoke event names, or move the clock for an `after` event. */
async function applyStandard(
  event: AnyEventObject,
  actor: AnyActorRef,
  clock: SimulatedClock,
  stubs: Record<string, ReturnType<typeof controllable<unknown, unknown>>>,
): Promise<void> {
  const [, kind, , id] = event.type.split('.');
  if (event.type.startsWith('xstate.done.actor.') || event.type.startsWith('xstate.error.actor.')) {
    const stub = stubs[id ?? ''];
    if (!stub) throw new Error(`No stub for ${event.type}`);
    if (kind === 'done') stub.last().resolve(event.output);
    else stub.last().reject(event.error);
  } else if (event.type.startsWith('xstate.after.')) {
    const [delay] = scheduledDelays(actor)[event.type] ?? [];
    if (delay === undefined) throw new Error(`${event.type} is not scheduled`);
    clock.increment(delay);
  } else {
    actor.send(event);
  }
  await flushPromises();
}

async function replayAll(
  name: string,
  paths: AnyPath[],
  make: (coverage: Coverage) => Replayer,
  coverage: Coverage,
  serialize: (state: Snap) => string,
): Promise<number> {
  for (const path of paths) {
    try {
      await replayPath(path, () => make(coverage), coverage, serialize);
    } catch (error) {
      throw new Error(`${name}: replay of ${describePath(path)} failed: ${String(error)}`, { cause: error });
    }
  }
  return paths.length;
}

// ── Consumer ──────────────────────────────────────────────────────────────────────────────────────

const CONSUMER_INPUT = consumerInput({ concurrency: 1, claimIntervalMs: 30_000 });
const LATER = 100_000;
const consumerEvents: AnyEventObject[] = [
  { type: 'xstate.done.actor.createGroup', output: { created: true, now: 0 } },
  { type: 'xstate.done.actor.createGroup', output: { created: false, now: LATER } },
  { type: 'xstate.error.actor.createGroup', error: connectionLost() },
  { type: 'xstate.error.actor.createGroup', error: fatalError() },
  { type: 'xstate.done.actor.recover', output: { lastId: null, now: 0 } },
  { type: 'xstate.error.actor.recover', error: noGroup() },
  { type: 'xstate.error.actor.recover', error: connectionLost() },
  { type: 'xstate.error.actor.recover', error: fatalError() },
  { type: 'io.read.done', output: { count: 1, lastId: '1-0', now: 0, ready: false } },
  { type: 'io.read.done', output: { count: 1, lastId: '2-0', now: 0, ready: true } },
  { type: 'io.read.failed', error: noGroup(), lastId: null },
  { type: 'io.read.failed', error: connectionLost(), lastId: '3-0' },
  { type: 'io.read.failed', error: fatalError(), lastId: null },
  { type: 'io.capacity', now: 0 },
  { type: 'io.capacity', now: LATER },
  { type: 'io.failed', reason: 'nogroup', error: 'NOGROUP on ack' },
  { type: 'io.failed', reason: 'fatal', error: 'WRONGTYPE on ack' },
  { type: 'xstate.after.backoffDelay.consumer.backoff' },
  { type: 'stop', timeoutMs: 1_000 },
  { type: 'xstate.done.actor.drain', output: { lastId: '4-0' } },
  { type: 'xstate.error.actor.drain', error: new Error('drain failed') },
  // At the input's concurrency (no spawn, no stop: the graph walk would register a worker's system
  // id twice); spawning and stopping workers is tested in consumer-workers.test.ts.
  { type: 'concurrency.set', concurrency: 1 },
  { type: 'io.workers.retired', ids: ['w0'] },
];
/** State value plus the context facts that choose between branches, so the graph stays finite. */
const serializeConsumer = (s: Snap) =>
  JSON.stringify([
    s.value,
    s.context.lastRecoveryAt === null ? 'fresh' : 'recovered',
    s.context.exitReason,
    s.context.healthy,
  ]);

function consumerReplayer(coverage: Coverage): Replayer {
  const stubs = {
    createGroup: controllable<unknown, unknown>(),
    recover: controllable<unknown, unknown>(),
    drain: controllable<unknown, unknown>(),
  };
  const machine = consumerMachine.provide({
    actors: {
      createGroup: stubs.createGroup.logic as never,
      recover: stubs.recover.logic as never,
      drain: stubs.drain.logic as never,
      io: fromCallback(() => {}),
    },
  });
  const clock = new SimulatedClock();
  let actor: AnyActorRef | undefined;
  actor = createActor(machine, {
    clock,
    input: CONSUMER_INPUT,
    inspect: coverage.observer(() => actor, 'creatingGroup'),
  });
  actor.start();
  const ref = actor;
  return { actor: ref, apply: (event) => applyStandard(event, ref, clock, stubs) };
}

// ── Dispatch worker ───────────────────────────────────────────────────────────────────────────────

const workerEvents: AnyEventObject[] = [
  { type: 'run', job: { id: '1-0' } },
  { type: 'abort' },
  { type: 'handler.settled', outcome: 'ok' },
  { type: 'handler.settled', outcome: 'released' },
  { type: 'handler.settled', outcome: 'failed', error: 'boom' },
  { type: 'handler.settled', outcome: 'dead', reason: 'non-retryable', error: 'bad' },
  { type: 'xstate.after.retryDelay.worker.retrying' },
  { type: 'xstate.done.actor.deadLetter', output: '9-0' },
  { type: 'xstate.error.actor.deadLetter', error: new Error('XADD failed') },
  { type: 'xstate.done.actor.scheduleRetry', output: undefined },
  { type: 'xstate.error.actor.scheduleRetry', error: new Error('ZADD failed') },
];
const serializeWorker = (s: Snap) => JSON.stringify([s.value, s.context.attempt, s.context.deadReason]);

function workerReplayer(hasScheduler: boolean) {
  return (coverage: Coverage): Replayer => {
    const stubs = {
      deadLetter: controllable<unknown, unknown>(),
      scheduleRetry: controllable<unknown, unknown>(),
    };
    const machine = dispatchWorkerMachine.provide({
      actors: {
        deadLetter: stubs.deadLetter.logic as never,
        scheduleRetry: stubs.scheduleRetry.logic as never,
      },
    });
    const clock = new SimulatedClock();
    let actor: AnyActorRef | undefined;
    actor = createActor(machine, {
      clock,
      input: workerInput({ attempts: 2, hasScheduler }),
      inspect: coverage.observer(() => actor, 'idle'),
    });
    actor.start();
    const ref = actor;
    return { actor: ref, apply: (event) => applyStandard(event, ref, clock, stubs) };
  };
}

// ── Supervisor ────────────────────────────────────────────────────────────────────────────────────

const exitOutput = (reason: 'nogroup' | 'stopped'): ConsumerOutput => ({
  reason,
  error: reason === 'stopped' ? null : `${reason}!`,
  lastId: null,
});
const supervisorEvents: AnyEventObject[] = [
  { type: 'xstate.done.actor.a', actorId: 'a', output: exitOutput('nogroup') },
  { type: 'xstate.done.actor.a', actorId: 'a', output: exitOutput('stopped') },
  { type: 'xstate.error.actor.a', actorId: 'a', error: new Error('crashed') },
  { type: 'restart', id: 'a' },
  { type: 'window.expire' },
  { type: 'consumer.healthy', id: 'a' },
  { type: 'child.stable', id: 'a' },
  { type: 'concurrency.set', id: 'a', concurrency: 3 },
  { type: 'stop', timeoutMs: 1_000 },
];
const SUPERVISOR_INPUT = supervisorInput({ maxRestarts: 1 });
const serializeSupervisor = (s: Snap) =>
  JSON.stringify([s.value, s.context.live.a, s.context.restartsInWindow, Math.min(s.context.attempts.a, 1)]);
/** A child can end or report only while it is live. */
const supervisorAllow = (s: Snap, e: AnyEventObject) =>
  !(e.type.startsWith('xstate.') || e.type === 'consumer.healthy') || s.context.live.a === true;

/** The consumer double: ends as the event says, or crashes. */
const stubConsumer = setup({
  types: {
    input: {} as ConsumerInput,
    context: {} as { output: ConsumerOutput },
    events: {} as { type: 'test.end'; output: ConsumerOutput } | { type: 'test.crash' } | { type: 'stop' },
    output: {} as ConsumerOutput,
  },
}).createMachine({
  context: { output: exitOutput('stopped') },
  output: ({ context }) => context.output,
  initial: 'running',
  on: {
    'test.end': { target: '.done', actions: assign({ output: ({ event }) => event.output }) },
    'test.crash': {
      actions: () => {
        throw new Error('crashed');
      },
    },
  },
  states: { running: { on: { stop: 'draining' } }, draining: {}, done: { type: 'final' } },
});

function supervisorReplayer(coverage: Coverage): Replayer {
  const machine = supervisorMachine.provide({ actors: { consumer: stubConsumer as never } });
  const clock = new SimulatedClock();
  let actor: AnyActorRef | undefined;
  actor = createActor(machine, {
    clock,
    input: SUPERVISOR_INPUT,
    inspect: coverage.observer(() => actor, 'running'),
  });
  actor.start();
  const ref = actor;
  const child = () => {
    const c = (ref.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children.a;
    if (!c) throw new Error('child "a" is not live');
    return c;
  };
  return {
    actor: ref,
    async apply(event) {
      if (event.type === 'xstate.done.actor.a') child().send({ type: 'test.end', output: event.output });
      else if (event.type === 'xstate.error.actor.a') child().send({ type: 'test.crash' });
      else ref.send(event); // raised/delayed events of the supervisor itself are sent as they are
      await flushPromises();
    },
  };
}

// ── Tests ─────────────────────────────────────────────────────────────────────────────────────────

describe('model-based paths (xstate/graph) replayed on the real machines', () => {
  it('consumer: every simple path and every edge replays; every state and transition is covered', async () => {
    const { simple, edges } = generate(
      consumerMachine,
      { input: CONSUMER_INPUT, events: consumerEvents },
      serializeConsumer,
    );
    expect(simple.length).toBeGreaterThan(20);
    const coverage = new Coverage();
    await replayAll('consumer', simple, consumerReplayer, coverage, serializeConsumer);
    await replayAll('consumer', edges, consumerReplayer, coverage, serializeConsumer);
    expectFullCoverage(consumerMachine, coverage);
  });

  it('dispatch worker, with and without a retry scheduler', async () => {
    const coverage = new Coverage();
    for (const hasScheduler of [false, true]) {
      const { simple, edges } = generate(
        dispatchWorkerMachine,
        { input: workerInput({ attempts: 2, hasScheduler }), events: workerEvents },
        serializeWorker,
      );
      await replayAll('worker', simple, workerReplayer(hasScheduler), coverage, serializeWorker);
      await replayAll('worker', edges, workerReplayer(hasScheduler), coverage, serializeWorker);
    }
    expectFullCoverage(dispatchWorkerMachine, coverage);
  });

  it('the coverage check names what no path took', async () => {
    const { shortest } = generate(
      dispatchWorkerMachine,
      { input: workerInput({ attempts: 2, hasScheduler: false }), events: workerEvents },
      serializeWorker,
    );
    const coverage = new Coverage();
    await replayAll('worker', shortest, workerReplayer(false), coverage, serializeWorker);
    expect(() => expectFullCoverage(dispatchWorkerMachine, coverage)).toThrow(
      /scheduling[\s\S]*running: abort/,
    );
  });

  it('supervisor', async () => {
    const { simple, edges } = generate(
      supervisorMachine,
      { input: SUPERVISOR_INPUT, events: supervisorEvents, allow: supervisorAllow },
      serializeSupervisor,
    );
    const coverage = new Coverage();
    await replayAll('supervisor', simple, supervisorReplayer, coverage, serializeSupervisor);
    await replayAll('supervisor', edges, supervisorReplayer, coverage, serializeSupervisor);
    expectFullCoverage(supervisorMachine, coverage);
  });
});
