import { afterEach, describe, expect, it } from 'vitest';
import { createActor, type InspectionEvent } from 'xstate';
import { DispatchJob } from '../../src/actors/dispatch/dispatch-job.js';
import { workerLogic } from '../../src/actors/dispatch/worker-actor.js';
import type { WorkerPool } from '../../src/actors/dispatch/worker-pool.js';
import { WorkerSlot } from '../../src/actors/dispatch/worker-slot.js';
import type { WorkerInput, WorkerRef } from '../../src/machines/dispatch-worker-machine.js';
import { stopAfterTest, stopStartedActors, workerInput } from '../helpers/machine-stubs.js';

// The worker machine with its I/O (worker-actor.ts) when the message in its slot has left the pool:
// a stop (the consumer's dispose) raced the worker's next step. Every action and actor then does
// nothing to the pool and the worker goes idle; none throws (an action that throws would put the
// worker actor in `error`, and its consumer with it).

afterEach(stopStartedActors);

/** A worker whose slot holds a message its pool no longer has in flight; the errors its actors reported. */
function workerOnLeftMessage(overrides: Partial<WorkerInput> = {}) {
  // Only `held` is read: the message is not in it, so no pool method may be called.
  const pool = { held: new Map() } as unknown as WorkerPool;
  const job = new DispatchJob({ id: '7-0', fields: { type: 't' }, deliveries: 1 }, pool);
  const slot = new WorkerSlot(null as unknown as WorkerRef);
  slot.job = job;
  const actorErrors: unknown[] = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.event' && event.event.type.startsWith('xstate.error.actor'))
      actorErrors.push((event.event as { error?: unknown }).error);
  };
  const worker = stopAfterTest(createActor(workerLogic, { input: workerInput(overrides), inspect }));
  const failures: unknown[] = [];
  worker.subscribe({ error: (error) => failures.push(error) });
  worker.start();
  return { worker, slot, actorErrors, failures };
}

describe('a worker whose message left its pool', () => {
  it('starts nothing, aborts nothing and completes nothing', () => {
    const { worker, slot, failures } = workerOnLeftMessage();
    worker.send({ type: 'run', job: slot });
    expect(worker.getSnapshot().value).toBe('running');
    worker.send({ type: 'abort' });
    worker.send({ type: 'handler.settled', outcome: 'ok' });
    expect(failures).toEqual([]);
    expect(worker.getSnapshot()).toMatchObject({ status: 'active', value: 'idle' });
  });

  it('releases nothing', () => {
    const { worker, slot, failures } = workerOnLeftMessage();
    worker.send({ type: 'run', job: slot });
    worker.send({ type: 'handler.settled', outcome: 'released' });
    expect(failures).toEqual([]);
    expect(worker.getSnapshot()).toMatchObject({ status: 'active', value: 'idle' });
  });

  it('reports no retry, and an abort while it waits releases nothing', () => {
    const { worker, slot, failures } = workerOnLeftMessage({ attempts: 3 });
    worker.send({ type: 'run', job: slot });
    worker.send({ type: 'handler.settled', outcome: 'failed', error: 'boom' });
    expect(worker.getSnapshot().value).toBe('retrying');
    worker.send({ type: 'abort' });
    expect(failures).toEqual([]);
    expect(worker.getSnapshot()).toMatchObject({ status: 'active', value: 'idle' });
  });

  it('writes no dead letter: the actor fails with the reason, and the worker goes idle', async () => {
    const { worker, slot, actorErrors, failures } = workerOnLeftMessage({ hasScheduler: true });
    worker.send({ type: 'run', job: slot });
    worker.send({ type: 'handler.settled', outcome: 'dead', reason: 'unrouted', error: 'no route' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(actorErrors).toEqual([new Error('Message 7-0 is no longer in flight; the consumer was stopped')]);
    expect(failures).toEqual([]);
    expect(worker.getSnapshot()).toMatchObject({ status: 'active', value: 'idle' });
  });

  it('is not scheduled: with a scheduler, its last failure goes to the dead-letter path', async () => {
    const { worker, slot, actorErrors } = workerOnLeftMessage({ attempts: 1, hasScheduler: true });
    const states: unknown[] = [];
    worker.subscribe((snapshot) => states.push(snapshot.value));
    worker.send({ type: 'run', job: slot });
    worker.send({ type: 'handler.settled', outcome: 'failed', error: 'boom' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(states).toEqual(['running', 'deadLettering', 'idle']);
    expect(actorErrors).toHaveLength(1);
  });
});

describe('WorkerSlot', () => {
  it('names no message while idle', () => {
    expect(new WorkerSlot(null as unknown as WorkerRef).id).toBe('');
  });
});
