import { NoGroupError } from '../../errors/no-group-error.js';
import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { settle, streamWithEntries } from './support.js';
import { vitest } from './vitest.js';

export function readCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('readGroup and ack', () => {
    it('delivers new entries once, in order, with deliveries 1, at most count at a time', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 3);
      const first = await storage.readGroup(stream, group, 'c1', { count: 2 });
      expect(first).toEqual([
        { id: ids[0], fields: { type: 't', n: '0' }, deliveries: 1 },
        { id: ids[1], fields: { type: 't', n: '1' }, deliveries: 1 },
      ]);
      expect(await storage.readGroup(stream, group, 'c2', { count: 10 })).toEqual([
        { id: ids[2], fields: { type: 't', n: '2' }, deliveries: 1 },
      ]);
      expect(await storage.readGroup(stream, group, 'c1', { count: 10 })).toEqual([]);
      const pending = await storage.pending(stream, group, { count: 10 });
      expect(pending.map((p) => [p.id, p.consumer, p.deliveries])).toEqual([
        [ids[0], 'c1', 1],
        [ids[1], 'c1', 1],
        [ids[2], 'c2', 1],
      ]);
    });

    it('ack resolves how many were pending and removes them from the PEL', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 3);
      await storage.readGroup(stream, group, 'c', { count: 3 });
      expect(await storage.ack(stream, group, [nth(ids, 0), nth(ids, 1)])).toBe(2);
      expect(await storage.ack(stream, group, [nth(ids, 0)])).toBe(0);
      expect(await storage.ack(stream, group, [])).toBe(0);
      expect(await storage.ack(stream, group, ['1-1'])).toBe(0);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual([ids[2]]);
      // acked entries stay in the stream
      expect(await storage.length(stream)).toBe(3);
    });

    it('a blocking read is woken by add and resolves the new entry', async () => {
      const { storage, stream, group } = await streamWithEntries(use(), 0);
      const read = storage.readGroup(stream, group, 'c', { count: 10, blockMs: 5000 });
      const id = await storage.add(stream, { type: 'wake' });
      expect(await read).toEqual([{ id, fields: { type: 'wake' }, deliveries: 1 }]);
    });

    it('a blocking read with nothing to read resolves [] after blockMs', async () => {
      const f = use();
      const { storage, stream, group } = await streamWithEntries(f, 0);
      let settled = false;
      const read = storage.readGroup(stream, group, 'c', { count: 10, blockMs: 100 }).finally(() => {
        settled = true;
      });
      await f.sleep(50);
      expect(settled).toBe(false);
      await f.sleep(250);
      expect(settled).toBe(true);
      expect(await read).toEqual([]);
    });

    it('a blocking read returns entries that are already there at once', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 1);
      const entries = await storage.readGroup(stream, group, 'c', { count: 10, blockMs: 60_000 });
      expect(entries.map((entry) => entry.id)).toEqual(ids);
    });

    it('a blocked read rejects with NoGroupError when its group is destroyed', async () => {
      const f = use();
      const { storage, stream, group } = await streamWithEntries(f, 0);
      const read = settle(storage.readGroup(stream, group, 'c', { count: 10, blockMs: 10_000 }));
      await f.sleep(50);
      expect(await storage.destroyGroup(stream, group)).toBe(true);
      const outcome = await read;
      expect(outcome).toBeInstanceOf(NoGroupError);
      expect(outcome).toMatchObject({ stream, group, code: 'NOGROUP' });
    });

    it('a blocked read rejects with NoGroupError when its stream key is deleted (Redis 7: -UNBLOCKED)', async (ctx) => {
      const f = use();
      const deleteStream = f.deleteStream;
      if (deleteStream === undefined) return ctx.skip();
      const { storage, stream, group } = await streamWithEntries(f, 0);
      const read = settle(storage.readGroup(stream, group, 'c', { count: 10, blockMs: 10_000 }));
      await f.sleep(50);
      await deleteStream.call(f, stream);
      const outcome = await read;
      expect(outcome).toBeInstanceOf(NoGroupError);
      expect(outcome).toMatchObject({ stream, group });
      expect(await storage.groups(stream)).toEqual([]);
    });

    it('readGroup on a deleted stream key raises NoGroupError until the group is created again', async (ctx) => {
      const f = use();
      const deleteStream = f.deleteStream;
      if (deleteStream === undefined) return ctx.skip();
      const { storage, stream, group } = await streamWithEntries(f, 1);
      await deleteStream.call(f, stream);
      await expect(storage.readGroup(stream, group, 'c', { count: 1 })).rejects.toBeInstanceOf(NoGroupError);
      expect(await storage.ensureGroup(stream, group, '$')).toBe(true);
      expect(await storage.readGroup(stream, group, 'c', { count: 1 })).toEqual([]);
    });
  });
}
