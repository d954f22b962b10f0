import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { type Harness, memoryLogger, startHarness } from './retry-support.js';

// `orderingKey` when it has nothing to say: a message without a key, a key function that throws, a
// message that cannot be decoded. (Keys under retries: retry-ordering.test.ts.)

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

/** Handlers that wait until released; `started` lists the payloads' `n` in start order. */
function gated() {
  const started: number[] = [];
  const release: Array<() => void> = [];
  const handler = (m: Message) => {
    started.push((m.payload as { n: number }).n);
    return new Promise<void>((resolve) => release.push(resolve));
  };
  return { started, release, handler };
}

describe('ordering keys', () => {
  it('messages without a key run side by side, while those of one key wait in line', async () => {
    const { started, release, handler } = gated();
    h = await startHarness((router) => router.on('t', handler), {
      consumer: { orderingKey: (m) => (m.payload as { key?: string }).key, concurrency: 4 },
    });
    await h.add({ type: 't', payload: '{"n":1}' });
    await h.add({ type: 't', payload: '{"n":2}' });
    await h.add({ type: 't', payload: '{"n":3,"key":"a"}' });
    await h.add({ type: 't', payload: '{"n":4,"key":"a"}' });
    expect(started).toEqual([1, 2, 3]);
    for (const open of release.splice(0)) open();
    await h.flush();
    expect(started).toEqual([1, 2, 3, 4]);
    release.shift()!();
    await h.flush();
    expect(await h.pendingIds()).toEqual([]);
  });

  it('a message whose orderingKey throws runs unordered, with a warning naming it', async () => {
    const { logger, records } = memoryLogger();
    const { started, release, handler } = gated();
    h = await startHarness((router) => router.on('t', handler), {
      logger,
      consumer: {
        orderingKey: (m) => {
          const { key } = m.payload as { key: string };
          if (key === 'bad') throw new Error('no key service');
          return key;
        },
      },
    });
    await h.add({ type: 't', payload: '{"n":1,"key":"a"}' });
    const bad = await h.add({ type: 't', payload: '{"n":2,"key":"bad"}' });
    await h.add({ type: 't', payload: '{"n":3,"key":"bad"}' });
    expect(started).toEqual([1, 2, 3]);
    expect(records.filter((r) => (r.level as number) >= 40)).toEqual([
      expect.objectContaining({
        level: 40,
        messageId: bad,
        err: expect.objectContaining({ message: 'no key service' }),
        msg: 'orderingKey threw; the message runs unordered',
      }),
      expect.objectContaining({ msg: 'orderingKey threw; the message runs unordered' }),
    ]);
    for (const open of release.splice(0)) open();
    await h.flush();
    expect(await h.pendingIds()).toEqual([]);
  });

  it('a message that cannot be decoded is dead-lettered without a call to orderingKey', async () => {
    const { logger, records } = memoryLogger();
    const keyed: unknown[] = [];
    h = await startHarness((router) => router.on('t', () => {}), {
      logger,
      consumer: {
        orderingKey: (m) => {
          keyed.push(m.payload);
          return 'k';
        },
      },
    });
    await h.add({ type: 't', payload: 'not json' });
    await h.add({ type: 't', payload: '{"n":2}' });
    expect((await h.dead()).map((l) => l.fields['x-dead-reason'])).toEqual(['malformed-payload']);
    expect(keyed).toEqual([{ n: 2 }]);
    expect(records.filter((r) => r.msg === 'orderingKey threw; the message runs unordered')).toEqual([]);
    expect(await h.pendingIds()).toEqual([]);
  });
});
