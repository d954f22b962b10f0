// The consumer machine's workers as its concurrency changes (pure: stub actors, no I/O), and the
// supervisor keeping the new concurrency in the child's spec for a restart.
import { afterEach, describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, fromCallback, fromPromise } from 'xstate';
import { consumerMachine } from '../../src/machines/consumer-machine.js';
import { supervisorMachine } from '../../src/machines/supervisor-machine.js';
import {
  childSpec,
  consumerInput,
  stopAfterTest,
  stopStartedActors,
  supervisorInput,
} from '../helpers/machine-stubs.js';

afterEach(stopStartedActors);

function setup(concurrency: number) {
  const resized: number[] = [];
  const machine = consumerMachine.provide({
    actors: {
      // Never settles: the machine stays in creatingGroup (concurrency.set works in every state).
      createGroup: fromPromise(() => new Promise<{ created: boolean; now: number }>(() => {})),
      io: fromCallback(() => {}),
    },
    actions: { resize: ({ context }) => resized.push(context.concurrency) },
  });
  const actor = stopAfterTest(createActor(machine, { input: consumerInput({ concurrency }) }));
  actor.start();
  const workers = () =>
    Object.keys(actor.getSnapshot().children)
      .filter((id) => /^w\d+$/.test(id))
      .sort();
  return { actor, resized, workers };
}

describe('consumer machine: concurrency.set and io.workers.retired', () => {
  it('spawns the missing workers, with the stable ids and system ids, and tells the session', () => {
    const { actor, resized, workers } = setup(2);
    expect(workers()).toEqual(['w0', 'w1']);
    actor.send({ type: 'concurrency.set', concurrency: 4 });
    expect(workers()).toEqual(['w0', 'w1', 'w2', 'w3']);
    expect(actor.getSnapshot().context).toMatchObject({ concurrency: 4, workers: ['w0', 'w1', 'w2', 'w3'] });
    expect(actor.system.get('c#1/w3')?.getSnapshot().context).toMatchObject({ workerId: 'w3' });
    expect(resized).toEqual([4]);
  });

  it('shrinking stops no worker itself: only those the pool retires, once they are idle', () => {
    const { actor, resized, workers } = setup(4);
    actor.send({ type: 'concurrency.set', concurrency: 1 });
    expect(resized).toEqual([1]);
    expect(workers()).toEqual(['w0', 'w1', 'w2', 'w3']);
    actor.send({ type: 'io.workers.retired', ids: ['w2', 'w3'] });
    expect(workers()).toEqual(['w0', 'w1']);
    expect(actor.system.get('c#1/w3')).toBeUndefined();
    actor.send({ type: 'io.workers.retired', ids: ['w1'] });
    expect(workers()).toEqual(['w0']);
    expect(actor.getSnapshot().context.workers).toEqual(['w0']);
  });

  it('keeps a retired worker that the concurrency grew back over, and re-spawns stopped ids', () => {
    const { actor, workers } = setup(4);
    actor.send({ type: 'concurrency.set', concurrency: 1 });
    actor.send({ type: 'io.workers.retired', ids: ['w3'] });
    const w2 = actor.getSnapshot().children.w2 as AnyActorRef;
    actor.send({ type: 'concurrency.set', concurrency: 4 });
    // w2 was still busy (alive): the pool takes it back; its late notice does not stop it.
    actor.send({ type: 'io.workers.retired', ids: ['w2'] });
    expect(workers()).toEqual(['w0', 'w1', 'w2', 'w3']);
    expect(actor.getSnapshot().children.w2).toBe(w2);
    expect(actor.system.get('c#1/w3')).toBe(actor.getSnapshot().children.w3);
  });
});

describe('supervisor machine: concurrency.set', () => {
  it('records the concurrency in the child spec (a restart keeps it) and forwards it to the live child', () => {
    const received: unknown[] = [];
    const child = fromCallback(({ receive }) => {
      receive((event) => received.push(event));
    });
    const supervisor = supervisorMachine.provide({ actors: { consumer: child as never } });
    const actor = stopAfterTest(
      createActor(supervisor, { input: supervisorInput({ children: [childSpec('a'), childSpec('b')] }) }),
    );
    actor.start();
    actor.send({ type: 'concurrency.set', id: 'b', concurrency: 7 });
    const specs = actor.getSnapshot().context.children;
    expect(specs.find((c) => c.id === 'b')?.concurrency).toBe(7);
    expect(specs.find((c) => c.id === 'a')?.concurrency).toBe(childSpec('a').concurrency);
    expect(received).toEqual([{ type: 'concurrency.set', concurrency: 7 }]);
  });
});
