import { NoGroupError } from '../../errors/no-group-error.js';
import type { StreamStorage } from '../../storage/stream-storage.js';
import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { settle, streamWithEntries } from './support.js';
import { vitest } from './vitest.js';

// Every key of a test carries one hash tag, so on a Redis Cluster they share a slot (as `ackAndAdd` needs).
const TAGGED_STREAM = '{ack}:stream';

type AckAndAdd = NonNullable<StreamStorage['ackAndAdd']>;

/** The storage's `ackAndAdd`, or `undefined` for a storage without it (its cases are skipped). */
function acker(storage: StreamStorage): AckAndAdd | undefined {
  return storage.ackAndAdd?.bind(storage);
}

async function fieldsOf(storage: StreamStorage, stream: string): Promise<Record<string, string>[]> {
  return (await storage.range(stream)).map((entry) => entry.fields);
}

/** `ackAndAdd` (optional: skipped on a storage without it): the writes happen only with the ack. */
export function ackAndAddCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('ackAndAdd', () => {
    it('sameSlot (where the storage has it) says keys with one hash tag can go together', (ctx) => {
      const { storage, key } = use();
      if (storage.sameSlot === undefined) return ctx.skip();
      expect(storage.sameSlot(key(TAGGED_STREAM), key('{ack}:out'))).toBe(true);
    });

    it('acks a pending entry and adds the entries in order, once: a second call writes nothing', async (ctx) => {
      const f = use();
      const ackAndAdd = acker(f.storage);
      if (ackAndAdd === undefined) return ctx.skip();
      const { stream, group, ids, storage } = await streamWithEntries(f, 2, TAGGED_STREAM);
      await storage.readGroup(stream, group, 'c', { count: 2 });
      const out = f.key('{ack}:out');
      const other = f.key('{ack}:other');
      const entries = [
        { stream: out, fields: { type: 'a', payload: '{"n":1}' } },
        { stream: other, fields: { type: 'b', 'x-h': 'üñí ✓' } },
        { stream: out, fields: { type: 'c', empty: '' } },
      ];
      expect(await ackAndAdd(stream, group, nth(ids, 0), entries)).toBe(true);
      expect(await fieldsOf(storage, out)).toEqual([entries[0]?.fields, entries[2]?.fields]);
      expect(await fieldsOf(storage, other)).toEqual([entries[1]?.fields]);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual([ids[1]]);
      expect(await ackAndAdd(stream, group, nth(ids, 0), entries)).toBe(false);
      expect(await storage.length(out)).toBe(2);
    });

    it('acks an entry another consumer owns (it claimed it); the first consumer then writes nothing', async (ctx) => {
      const f = use();
      const ackAndAdd = acker(f.storage);
      if (ackAndAdd === undefined) return ctx.skip();
      const { stream, group, ids, storage } = await streamWithEntries(f, 1, TAGGED_STREAM);
      await storage.readGroup(stream, group, 'slow', { count: 1 });
      const claimed = await storage.claim(stream, group, 'fast', ids, { minIdleMs: 0 });
      expect(claimed.entries.map((entry) => entry.id)).toEqual(ids);
      const out = f.key('{ack}:out');
      expect(
        await ackAndAdd(stream, group, nth(ids, 0), [{ stream: out, fields: { type: 'by-fast' } }]),
      ).toBe(true);
      expect(
        await ackAndAdd(stream, group, nth(ids, 0), [{ stream: out, fields: { type: 'by-slow' } }]),
      ).toBe(false);
      expect(await fieldsOf(storage, out)).toEqual([{ type: 'by-fast' }]);
    });

    it('an entry never delivered is not pending: nothing is written', async (ctx) => {
      const f = use();
      const ackAndAdd = acker(f.storage);
      if (ackAndAdd === undefined) return ctx.skip();
      const { stream, group, ids, storage } = await streamWithEntries(f, 1, TAGGED_STREAM);
      const out = f.key('{ack}:out');
      expect(await ackAndAdd(stream, group, nth(ids, 0), [{ stream: out, fields: { type: 't' } }])).toBe(
        false,
      );
      expect(await storage.length(out)).toBe(0);
    });

    it('raises NoGroupError for a missing group or stream, and writes nothing', async (ctx) => {
      const f = use();
      const ackAndAdd = acker(f.storage);
      if (ackAndAdd === undefined) return ctx.skip();
      const { stream, ids, storage } = await streamWithEntries(f, 1, TAGGED_STREAM);
      const out = f.key('{ack}:out');
      const write = [{ stream: out, fields: { type: 't' } }];
      expect(await settle(ackAndAdd(stream, 'missing', nth(ids, 0), write))).toBeInstanceOf(NoGroupError);
      expect(await settle(ackAndAdd(f.key('{ack}:nostream'), 'g', '1-1', write))).toBeInstanceOf(
        NoGroupError,
      );
      expect(await storage.length(out)).toBe(0);
    });

    it('refuses a bad entry with a TypeError before acking: the message stays pending', async (ctx) => {
      const f = use();
      const ackAndAdd = acker(f.storage);
      if (ackAndAdd === undefined) return ctx.skip();
      const { stream, group, ids, storage } = await streamWithEntries(f, 1, TAGGED_STREAM);
      await storage.readGroup(stream, group, 'c', { count: 1 });
      const out = f.key('{ack}:out');
      const bad = [
        { stream: out, fields: { type: 'ok' } },
        { stream: out, fields: { type: 1 as unknown as string } },
      ];
      const error = await settle(ackAndAdd(stream, group, nth(ids, 0), bad));
      expect(error).toBeInstanceOf(TypeError);
      expect(
        await settle(ackAndAdd(stream, group, nth(ids, 0), [{ stream: out, fields: {} }])),
      ).toBeInstanceOf(TypeError);
      expect(await storage.length(out)).toBe(0);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual(ids);
    });

    it('maxLen trims the entry stream like add (MAXLEN ~)', async (ctx) => {
      const f = use();
      const ackAndAdd = acker(f.storage);
      if (ackAndAdd === undefined) return ctx.skip();
      const { stream, group, ids, storage } = await streamWithEntries(f, 1, TAGGED_STREAM);
      await storage.readGroup(stream, group, 'c', { count: 1 });
      const out = f.key('{ack}:out');
      for (let i = 0; i < 249; i++) await storage.add(out, { type: 't' });
      const write = [{ stream: out, fields: { type: 'last' }, maxLen: 10 }];
      expect(await ackAndAdd(stream, group, nth(ids, 0), write)).toBe(true);
      const length = await storage.length(out);
      expect(length).toBeGreaterThanOrEqual(10);
      expect(length).toBeLessThan(250);
      expect((await storage.range(out)).at(-1)?.fields).toEqual({ type: 'last' });
    });
  });
}
