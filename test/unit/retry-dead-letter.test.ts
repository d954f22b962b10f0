import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { z } from 'zod';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import {
  FlakyDeadLetters,
  type Harness,
  memoryLogger,
  startHarness,
  storageAtT0,
  T0,
} from './retry-support.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

function simulated() {
  const clock = new SimulatedClock();
  clock.set(T0);
  return { clock, storage: new MemoryStreamStorage({ clock }) };
}

/** Every x-dead-* field of one dead letter, for `source` fields and a reason. */
function letter(
  source: Record<string, string>,
  id: string,
  reason: string,
  error: string,
  extra: { deliveries?: number; at?: number } = {},
) {
  return {
    ...source,
    'x-dead-reason': reason,
    'x-dead-error': error,
    'x-source-stream': 's',
    'x-source-id': id,
    'x-group': 'g',
    'x-deliveries': String(extra.deliveries ?? 1),
    'x-dead-at': String(extra.at ?? T0),
  };
}

describe('bad input is dead-lettered at once, with its reason', () => {
  async function deadLetterOf(fields: Record<string, string>, options = {}) {
    let called = 0;
    h = await startHarness(
      (router) => {
        router.on('t', () => void called++);
        router.on('typed', () => void called++, { schema: z.object({ orderId: z.string() }) });
      },
      { consumer: options },
    );
    const id = await h.add(fields);
    const dead = await h.dead();
    expect(called).toBe(0);
    expect(await h.pendingIds()).toEqual([]);
    expect(dead).toHaveLength(1);
    return { id, fields: dead[0]!.fields };
  }

  it('an entry without `type`: missing-type', async () => {
    const { id, fields } = await deadLetterOf({ payload: '{"a":1}' });
    expect(fields).toEqual(
      letter(
        { payload: '{"a":1}' },
        id,
        'missing-type',
        'Entry has no `type` field; every message needs a non-empty `type` field',
      ),
    );
    expect(h!.runtime.snapshot().consumers[0]!.deadLetteredByReason).toEqual({ 'missing-type': 1 });
  });

  it('an entry with an empty `type`: missing-type', async () => {
    const { fields } = await deadLetterOf({ type: '', payload: '{}' });
    expect(fields['x-dead-reason']).toBe('missing-type');
    expect(fields['x-dead-error']).toBe(
      'Entry has an empty `type` field; every message needs a non-empty `type` field',
    );
  });

  it('a payload that is not JSON: malformed-payload', async () => {
    const { id, fields } = await deadLetterOf({ type: 't', payload: '{oops' });
    expect(fields).toEqual(
      letter(
        { type: 't', payload: '{oops' },
        id,
        'malformed-payload',
        expect.stringMatching(/^Payload is not valid JSON: /),
      ),
    );
  });

  it('a payload over maxPayloadBytes: malformed-payload, naming the limit', async () => {
    const payload = JSON.stringify({ text: 'x'.repeat(40) });
    const { fields } = await deadLetterOf({ type: 't', payload }, { maxPayloadBytes: 32 });
    expect(fields['x-dead-reason']).toBe('malformed-payload');
    expect(fields['x-dead-error']).toBe(
      `Payload is ${payload.length} bytes, over the limit of 32 bytes; raise maxPayloadBytes or send a smaller payload`,
    );
  });

  it('the default limit is 1 MiB', async () => {
    const payload = JSON.stringify('x'.repeat(1_048_576));
    const { fields } = await deadLetterOf({ type: 't', payload });
    expect(fields['x-dead-error']).toMatch(/over the limit of 1048576 bytes/);
  });

  it('a payload failing the handler schema: non-retryable, listing the issue', async () => {
    const { id, fields } = await deadLetterOf({ type: 'typed', payload: '{"orderId":7}' });
    expect(fields).toEqual(
      letter(
        { type: 'typed', payload: '{"orderId":7}' },
        id,
        'non-retryable',
        expect.stringMatching(
          /^Payload of "typed" \(entry .+\) does not match the schema of route "typed#\d+": orderId: /,
        ),
      ),
    );
  });

  it('a valid payload reaches a schema handler with the parsed value', async () => {
    const seen: unknown[] = [];
    h = await startHarness((router) =>
      router.on('typed', (m) => void seen.push(m.payload), { schema: z.object({ n: z.coerce.number() }) }),
    );
    await h.add({ type: 'typed', payload: '{"n":"5"}' });
    expect(seen).toEqual([{ n: 5 }]);
    expect(await h.dead()).toEqual([]);
  });
});

describe('unrouted messages', () => {
  it("unrouted: 'ack' (default) acks, counts and logs at debug, without a dead letter", async () => {
    const { logger, records } = memoryLogger();
    h = await startHarness((router) => router.on('known', () => {}), { logger });
    const id = await h.add({ type: 'unknown.kind', payload: '{}' });
    expect(await h.pendingIds()).toEqual([]);
    expect(await h.dead()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({ unrouted: 1, processed: 1, deadLettered: 0 });
    expect(records.filter((r) => r.msg === 'unrouted message acked')).toEqual([
      expect.objectContaining({ level: 20, messageId: id, messageType: 'unknown.kind' }),
    ]);
  });

  it("unrouted: 'dead-letter' writes a dead letter with reason unrouted", async () => {
    h = await startHarness((router) => router.on('known', () => {}), {
      consumer: { unrouted: 'dead-letter' },
    });
    const id = await h.add({ type: 'unknown.kind', payload: '{}' });
    expect((await h.dead()).map((l) => l.fields)).toEqual([
      letter({ type: 'unknown.kind', payload: '{}' }, id, 'unrouted', 'No handler for type "unknown.kind"'),
    ]);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]).toMatchObject({
      unrouted: 0,
      processed: 0,
      deadLetteredByReason: { unrouted: 1 },
    });
  });

  it('a message whose filters all say no is unrouted too', async () => {
    h = await startHarness((router) => router.on('t', () => {}, { filter: () => false }), {
      consumer: { unrouted: 'dead-letter' },
    });
    await h.add({ type: 't', payload: '{}' });
    expect((await h.dead()).map((l) => [l.fields['x-dead-reason'], l.fields['x-dead-error']])).toEqual([
      ['unrouted', 'Every handler for type "t" (1) filtered the message out'],
    ]);
  });
});

describe('poison messages (deadLetter.maxDeliveries)', () => {
  it('dead-letters a message delivered more than maxDeliveries times without calling a handler', async () => {
    const { clock, storage } = simulated();
    await storage.ensureGroup('s', 'g', '0');
    const id = await storage.add('s', { type: 't', payload: '{}' });
    // A consumer that crashed on it three times: read once, then re-claimed twice.
    await storage.readGroup('s', 'g', 'c1', { count: 1 });
    await storage.claim('s', 'g', 'c1', [id], { minIdleMs: 0 });
    await storage.claim('s', 'g', 'c1', [id], { minIdleMs: 0 });
    let called = 0;
    h = await startHarness((router) => router.on('t', () => void called++), {
      clock,
      storage,
      consumer: { deadLetter: { maxDeliveries: 3 } },
    });
    // Own-PEL recovery claims it a fourth time: 4 > 3.
    expect(called).toBe(0);
    const dead = await h.dead();
    expect(dead.map((l) => l.fields)).toEqual([
      letter(
        { type: 't', payload: '{}' },
        id,
        'max-deliveries',
        'Delivered 4 times, over deadLetter.maxDeliveries 3',
        { deliveries: 4 },
      ),
    ]);
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]!.deadLetteredByReason).toEqual({ 'max-deliveries': 1 });
  });

  it('a message at exactly maxDeliveries still runs its handler', async () => {
    const { clock, storage } = simulated();
    await storage.ensureGroup('s', 'g', '0');
    const id = await storage.add('s', { type: 't', payload: '{}' });
    await storage.readGroup('s', 'g', 'c1', { count: 1 });
    await storage.claim('s', 'g', 'c1', [id], { minIdleMs: 0 });
    const deliveries: number[] = [];
    h = await startHarness((router) => router.on('t', (m) => void deliveries.push(m.deliveries)), {
      clock,
      storage,
      consumer: { deadLetter: { maxDeliveries: 3 } },
    });
    expect(deliveries).toEqual([3]);
    expect(await h.dead()).toEqual([]);
  });
});

describe('dead-letter writes', () => {
  it('go to deadLetter.stream when configured', async () => {
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          throw new Error('x');
        }),
      { consumer: { retry: { attempts: 1 }, deadLetter: { stream: 'graveyard' } } },
    );
    await h.add({ type: 't', payload: '{}' });
    expect(await h.dead()).toEqual([]);
    expect((await h.storage.range('graveyard')).map((l) => l.fields['x-dead-reason'])).toEqual([
      'handler-error',
    ]);
  });

  it('deadLetter.maxLen caps the dead-letter stream like MAXLEN ~ (whole nodes), keeping the newest', async () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const storage = new MemoryStreamStorage({ clock, streamNodeMaxEntries: 2 });
    h = await startHarness((router) => router.on('known', () => {}), {
      clock,
      storage,
      consumer: { unrouted: 'dead-letter', deadLetter: { maxLen: 3 } },
    });
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) ids.push(await h.add({ type: 'unknown', payload: '{}' }));
    const kept = (await h.dead()).map((l) => l.fields['x-source-id']);
    expect(kept).toEqual(ids.slice(-kept.length));
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeLessThan(8);
    expect(await h.pendingIds()).toEqual([]);
  });

  it('a failed dead-letter write leaves the source pending (not acked) and the message comes back', async () => {
    const { clock, storage } = storageAtT0((clock) => new FlakyDeadLetters({ clock }));
    let calls = 0;
    h = await startHarness(
      (router) =>
        router.on('t', () => {
          calls++;
          throw new Error('bad');
        }),
      {
        clock,
        storage,
        consumer: { retry: { attempts: 1 }, claim: { minIdleMs: 1000, intervalMs: 1000 } },
      },
    );
    const id = await h.add({ type: 't', payload: '{}' });
    expect(calls).toBe(1);
    expect(await h.pendingIds()).toEqual([id]);
    expect(await h.dead()).toEqual([]);
    // The next recovery (claim.intervalMs) finds it idle and hands it back; it goes straight to the
    // dead-letter write with its first reason (the handler does not run again), written this time.
    await h.advance(3000, 100);
    expect(calls).toBe(1);
    expect(
      (await h.dead()).map((l) => [
        l.fields['x-source-id'],
        l.fields['x-deliveries'],
        l.fields['x-dead-reason'],
      ]),
    ).toEqual([[id, '2', 'handler-error']]);
    expect(await h.pendingIds()).toEqual([]);
  });
});
