import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import {
  type DeadLetterInput,
  dispatchWorkerMachine,
  type ScheduleRetryInput,
  type WorkerInput,
} from '../../src/machines/dispatch-worker-machine.js';
import {
  controllable,
  flushPromises,
  scheduledDelays,
  stopAfterTest,
  stopStartedActors,
  tick,
  workerInput,
} from '../helpers/machine-stubs.js';

afterEach(stopStartedActors);

const job = { id: '1-0' };

function setupWorker(overrides: Partial<WorkerInput> = {}) {
  const deadLetter = controllable<string, DeadLetterInput>();
  const scheduleRetry = controllable<number, ScheduleRetryInput>();
  const calls: string[] = [];
  const record =
    (name: string) =>
    ({ context }: { context: { attempt: number } }) =>
      calls.push(`${name}@${context.attempt}`);
  const startAttempt = vi.fn(record('start'));
  const machine = dispatchWorkerMachine.provide({
    actors: { deadLetter: deadLetter.logic, scheduleRetry: scheduleRetry.logic },
    actions: {
      startAttempt,
      abortAttempt: record('abort'),
      complete: record('complete'),
      release: record('release'),
      recordRetry: record('retry'),
      recordDeadLetter: record('deadLettered'),
      recordScheduled: record('scheduled'),
    },
  });
  const clock = new SimulatedClock();
  const actor = stopAfterTest(createActor(machine, { clock, input: workerInput(overrides) }));
  actor.start();
  const value = () => actor.getSnapshot().value;
  const context = () => actor.getSnapshot().context;
  return { deadLetter, scheduleRetry, calls, startAttempt, clock, actor, value, context };
}

type Harness = ReturnType<typeof setupWorker>;

const fail = (h: Harness, error = 'boom') =>
  h.actor.send({ type: 'handler.settled', outcome: 'failed', error });

/** Fail every attempt, waiting out each retry delay; returns the delays seen. */
async function failAll(h: Harness, attempts: number): Promise<number[]> {
  const delays: number[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    fail(h, `boom ${attempt}`);
    if (attempt === attempts) break;
    expect(h.value()).toBe('retrying');
    const [delay] = scheduledDelays(h.actor)['xstate.after.retryDelay.worker.retrying'] ?? [];
    delays.push(delay!);
    await tick(h.clock, delay! - 1);
    expect(h.value()).toBe('retrying');
    await tick(h.clock, 1);
    expect(h.value()).toBe('running');
    expect(h.context().attempt).toBe(attempt + 1);
  }
  return delays;
}

describe('dispatch worker machine', () => {
  it('idle → running on run: attempt 1 starts with the job', () => {
    const h = setupWorker();
    expect(h.value()).toBe('idle');
    h.actor.send({ type: 'run', job });
    expect(h.value()).toBe('running');
    expect(h.context()).toMatchObject({ job, attempt: 1, deadReason: null, lastError: null });
    expect(h.calls).toEqual(['start@1']);
  });

  it('ok → idle: completes (acks) and frees the job', () => {
    const h = setupWorker();
    h.actor.send({ type: 'run', job });
    h.actor.send({ type: 'handler.settled', outcome: 'ok' });
    expect(h.value()).toBe('idle');
    expect(h.context().job).toBeNull();
    expect(h.calls).toEqual(['start@1', 'complete@1']);
  });

  it('released → idle: the message is left pending', () => {
    const h = setupWorker();
    h.actor.send({ type: 'run', job });
    h.actor.send({ type: 'handler.settled', outcome: 'released' });
    expect(h.value()).toBe('idle');
    expect(h.calls).toEqual(['start@1', 'release@1']);
  });

  it('abort while running aborts the attempt and waits for the handlers to settle', () => {
    const h = setupWorker();
    h.actor.send({ type: 'run', job });
    h.actor.send({ type: 'abort' });
    expect(h.value()).toBe('running');
    expect(h.calls).toEqual(['start@1', 'abort@1']);
  });

  it('retries failed attempts after exact exponential delays, then dead-letters with handler-error', async () => {
    const h = setupWorker({ attempts: 4, retry: { initialMs: 100, maxMs: 300 } });
    h.actor.send({ type: 'run', job });
    const delays = await failAll(h, 4);
    expect(delays).toEqual([100, 200, 300]);
    expect(h.calls).toEqual(['start@1', 'retry@1', 'start@2', 'retry@2', 'start@3', 'retry@3', 'start@4']);
    expect(h.value()).toBe('deadLettering');
    expect(h.deadLetter.last().input).toEqual({
      session: 'c#1',
      job,
      reason: 'handler-error',
      error: 'boom 4',
      attempt: 4,
    });
    h.deadLetter.last().resolve('9-0');
    await flushPromises();
    expect(h.value()).toBe('idle');
    expect(h.calls.at(-1)).toBe('deadLettered@4');
    expect(h.context().job).toBeNull();
  });

  it('uses a provided retryDelay', async () => {
    const h = setupWorker();
    const actor = stopAfterTest(
      createActor(
        dispatchWorkerMachine.provide({ delays: { retryDelay: ({ context }) => context.attempt * 1_000 } }),
        { clock: h.clock, input: workerInput() },
      ),
    );
    actor.start();
    actor.send({ type: 'run', job });
    actor.send({ type: 'handler.settled', outcome: 'failed', error: 'x' });
    expect(scheduledDelays(actor)['xstate.after.retryDelay.worker.retrying']).toEqual([1_000]);
    actor.stop();
  });

  it('with one attempt, a failure dead-letters at once', () => {
    const h = setupWorker({ attempts: 1 });
    h.actor.send({ type: 'run', job });
    fail(h);
    expect(h.value()).toBe('deadLettering');
    expect(h.calls).toEqual(['start@1']);
  });

  it.each([
    'non-retryable',
    'max-deliveries',
    'missing-type',
    'malformed-payload',
    'malformed-encoding',
    'unrouted',
  ] as const)('dead outcome (%s) dead-letters at once with its reason', async (reason) => {
    const h = setupWorker();
    h.actor.send({ type: 'run', job });
    h.actor.send({ type: 'handler.settled', outcome: 'dead', reason, error: `because ${reason}` });
    expect(h.value()).toBe('deadLettering');
    expect(h.deadLetter.last().input).toMatchObject({ reason, error: `because ${reason}`, attempt: 1 });
  });

  it('a failed dead-letter write releases the message (it stays pending)', async () => {
    const h = setupWorker({ attempts: 1 });
    h.actor.send({ type: 'run', job });
    fail(h);
    h.deadLetter.last().reject(new Error('XADD failed'));
    await flushPromises();
    expect(h.value()).toBe('idle');
    expect(h.calls).toEqual(['start@1', 'release@1']);
    expect(h.context().job).toBeNull();
  });

  it('with a retry scheduler, the last failure is scheduled instead of dead-lettered', async () => {
    const h = setupWorker({ attempts: 2, hasScheduler: true });
    h.actor.send({ type: 'run', job });
    await failAll(h, 2);
    expect(h.value()).toBe('scheduling');
    expect(h.scheduleRetry.last().input).toEqual({ session: 'c#1', job, error: 'boom 2', attempt: 2 });
    h.scheduleRetry.last().resolve(0);
    await flushPromises();
    expect(h.value()).toBe('idle');
    expect(h.calls.at(-1)).toBe('scheduled@2');
  });

  it('a failed schedule falls back to the dead-letter stream', async () => {
    const h = setupWorker({ attempts: 1, hasScheduler: true });
    h.actor.send({ type: 'run', job });
    fail(h, 'handler broke');
    h.scheduleRetry.last().reject(new Error('ZADD failed'));
    await flushPromises();
    expect(h.value()).toBe('deadLettering');
    expect(h.deadLetter.last().input).toMatchObject({ reason: 'handler-error', error: 'handler broke' });
  });

  it('abort while retrying → idle (released) and cancels the retry timer', async () => {
    const h = setupWorker();
    h.actor.send({ type: 'run', job });
    fail(h);
    expect(h.value()).toBe('retrying');
    h.actor.send({ type: 'abort' });
    expect(h.value()).toBe('idle');
    expect(scheduledDelays(h.actor)).toEqual({});
    await tick(h.clock, 10_000);
    expect(h.value()).toBe('idle');
    expect(h.calls).toEqual(['start@1', 'retry@1', 'release@1']);
  });

  it('takes the next job after finishing one, from attempt 1', () => {
    const h = setupWorker();
    h.actor.send({ type: 'run', job });
    fail(h);
    h.actor.send({ type: 'abort' });
    h.actor.send({ type: 'run', job: { id: '2-0' } });
    expect(h.context()).toMatchObject({ job: { id: '2-0' }, attempt: 1, lastError: null });
  });
});
