// Doubles for driving the pure machines: controllable promise actors, inputs, scheduled-delay lookups.
import { type AnyActorRef, fromPromise, type SimulatedClock } from 'xstate';
import { ConnectionError } from '../../src/errors/connection-error.js';
import { NoGroupError } from '../../src/errors/no-group-error.js';
import { StreamvisorError } from '../../src/errors/streamvisor-error.js';
import type { ConsumerInput } from '../../src/machines/consumer-machine.js';
import type { WorkerInput } from '../../src/machines/dispatch-worker-machine.js';
import type { ChildSpec, SupervisorInput } from '../../src/machines/supervisor-machine.js';
import { flushPromises } from '../../src/testing/index.js';

export { flushPromises };

export interface Call<I, O> {
  input: I;
  signal: AbortSignal;
  resolve(output: O): void;
  reject(error: unknown): void;
}

/** A `fromPromise` actor whose every invocation waits until the test resolves or rejects it. */
export function controllable<O, I>() {
  const calls: Call<I, O>[] = [];
  const logic = fromPromise<O, I>(
    ({ input, signal }) =>
      new Promise<O>((resolve, reject) => {
        calls.push({ input, signal, resolve, reject });
      }),
  );
  return {
    logic,
    calls,
    /** The latest invocation; throws when there is none. */
    last(): Call<I, O> {
      const call = calls[calls.length - 1];
      if (!call) throw new Error('The actor was not invoked');
      return call;
    },
  };
}

export const noGroup = () => new NoGroupError('s', 'g');
export const connectionLost = () => new ConnectionError('Connection is closed');
export const fatalError = () => new StreamvisorError('WRONGTYPE Operation against a key', 'REDIS', false);

export function consumerInput(overrides: Partial<ConsumerInput> = {}): ConsumerInput {
  return {
    id: 'c',
    session: 'c#1',
    stream: 's',
    group: 'g',
    consumer: 'c1',
    concurrency: 2,
    startId: '$',
    lastId: null,
    claimIntervalMs: 30_000,
    backoff: { initialMs: 100, maxMs: 1_000 },
    worker: { attempts: 3, retry: { initialMs: 100, maxMs: 1_000 }, hasScheduler: false },
    ...overrides,
  };
}

export function workerInput(overrides: Partial<WorkerInput> = {}): WorkerInput {
  return {
    session: 'c#1',
    workerId: 'w0',
    attempts: 3,
    retry: { initialMs: 100, maxMs: 1_000 },
    hasScheduler: false,
    ...overrides,
  };
}

export function childSpec(id: string): ChildSpec {
  const { session: _session, lastId: _lastId, ...spec } = consumerInput({ id });
  return spec;
}

export function supervisorInput(overrides: Partial<SupervisorInput> = {}): SupervisorInput {
  return {
    children: [childSpec('a')],
    maxRestarts: 10,
    periodMs: 60_000,
    backoff: { minMs: 100, maxMs: 10_000, randomFactor: 0 },
    resetAfterMs: 5_000,
    ...overrides,
  };
}

/** Delays (ms) of the events an actor system has scheduled, by event type. */
export function scheduledDelays(actor: AnyActorRef): Record<string, number[]> {
  const scheduled = (
    actor.system.getSnapshot() as {
      _scheduledEvents: Record<string, { event: { type: string }; delay: number }>;
    }
  )._scheduledEvents;
  const out: Record<string, number[]> = {};
  for (const { event, delay } of Object.values(scheduled)) {
    out[event.type] = [...(out[event.type] ?? []), delay];
  }
  return out;
}

/** Move a SimulatedClock and let promise callbacks run. */
export async function tick(clock: SimulatedClock, ms: number): Promise<void> {
  clock.increment(ms);
  await flushPromises();
}

const startedActors: { stop(): unknown }[] = [];

/**
 * Mark a root actor to be stopped after the test by `stopStartedActors` (the global leak guard fails a
 * test that leaves an actor running). Returns it.
 *
 * @example
 * afterEach(stopStartedActors)
 * const actor = stopAfterTest(createActor(machine, { clock }))
 */
export function stopAfterTest<A extends { stop(): unknown }>(actor: A): A {
  startedActors.push(actor);
  return actor;
}

/** For `afterEach`: stop every actor passed to `stopAfterTest` since the last call. */
export function stopStartedActors(): void {
  for (const actor of startedActors.splice(0)) actor.stop();
}
