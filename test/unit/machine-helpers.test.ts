import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { consumerMachine, maxId, workerSystemId } from '../../src/machines/consumer-machine.js';
import { consumerInput, stopAfterTest, stopStartedActors } from '../helpers/machine-stubs.js';

// The consumer machine's small exports and its defaults, with exact values (mutation testing found
// them unasserted: the machine tests only ever compare ids of one shape).

afterEach(stopStartedActors);

describe('maxId: the larger of two stream ids', () => {
  it.each([
    [null, null, null],
    [null, '1-0', '1-0'],
    ['1-0', null, '1-0'],
    ['9-0', '10-0', '10-0'], // more digits in the ms part wins, whatever the text order
    ['10-0', '9-0', '10-0'],
    ['5-0', '6-0', '6-0'],
    ['6-0', '5-0', '6-0'],
    ['5-9', '5-10', '5-10'], // then more digits in the sequence
    ['5-10', '5-9', '5-10'],
    ['5-3', '5-4', '5-4'],
    ['5-4', '5-3', '5-4'],
    ['5', '5-1', '5-1'], // a missing sequence counts as 0
    ['5-1', '5', '5-1'],
    ['7', '6-9', '7'],
  ] as const)('maxId(%s, %s) = %s', (a, b, expected) => {
    expect(maxId(a, b)).toBe(expected);
  });
});

describe('workerSystemId', () => {
  it('is <session>/<workerId>', () => {
    expect(workerSystemId('orders/c#3', 'w7')).toBe('orders/c#3/w7');
  });
});

describe('the consumer machine without the runtime', () => {
  it('fails loudly: its actors were not provided, so it exits fatal naming the missing one', async () => {
    const actor = stopAfterTest(createActor(consumerMachine, { input: consumerInput() }));
    actor.start();
    const output = await toPromise(actor);
    expect(output).toEqual({
      reason: 'fatal',
      error: 'The consumer\'s actor "createGroup" was not provided; run it through createRuntime',
      lastId: null,
    });
  });
});
