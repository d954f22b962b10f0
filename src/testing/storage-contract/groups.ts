import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { expectIdleAbout, streamWithEntries } from './support.js';
import { vitest } from './vitest.js';

export function groupCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('groups', () => {
    it('ensureGroup creates the group (and the stream) once: true, then false', async () => {
      const { storage, key } = use();
      const stream = key('s');
      expect(await storage.ensureGroup(stream, 'g')).toBe(true);
      expect(await storage.ensureGroup(stream, 'g')).toBe(false);
      expect(await storage.ensureGroup(stream, 'g', '0')).toBe(false);
      expect(await storage.length(stream)).toBe(0);
      expect((await storage.groups(stream)).map((group) => group.name)).toEqual(['g']);
    });

    it('startId "$" delivers only later entries, "0" the whole history, an id what follows it', async () => {
      const { storage, key } = use();
      const stream = key('s');
      const old1 = await storage.add(stream, { type: 'old1' });
      const old2 = await storage.add(stream, { type: 'old2' });
      await storage.ensureGroup(stream, 'new', '$');
      await storage.ensureGroup(stream, 'all', '0');
      await storage.ensureGroup(stream, 'after', old1);
      const fresh = await storage.add(stream, { type: 'new' });
      const idsRead = async (group: string) =>
        (await storage.readGroup(stream, group, 'c', { count: 10 })).map((entry) => entry.id);
      expect(await idsRead('new')).toEqual([fresh]);
      expect(await idsRead('all')).toEqual([old1, old2, fresh]);
      expect(await idsRead('after')).toEqual([old2, fresh]);
    });

    it('groups reports consumers, pending, last delivered id, entries read and lag', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 3);
      expect(await storage.groups(stream)).toEqual([
        expect.objectContaining({ name: group, consumers: 0, pending: 0, lastDeliveredId: '0-0', lag: 3 }),
      ]);
      await storage.readGroup(stream, group, 'c1', { count: 2 });
      expect(await storage.groups(stream)).toEqual([
        { name: group, consumers: 1, pending: 2, lastDeliveredId: ids[1], entriesRead: 2, lag: 1 },
      ]);
      await storage.readGroup(stream, group, 'c2', { count: 5 });
      await storage.ack(stream, group, [nth(ids, 0)]);
      expect(await storage.groups(stream)).toEqual([
        { name: group, consumers: 2, pending: 2, lastDeliveredId: ids[2], entriesRead: 3, lag: 0 },
      ]);
    });

    it('groups of a missing stream is []', async () => {
      const { storage, key } = use();
      expect(await storage.groups(key('missing'))).toEqual([]);
    });

    it('consumers reports each consumer with its pending count and idle time', async () => {
      const f = use();
      const { storage, stream, group, ids } = await streamWithEntries(f, 3);
      await storage.readGroup(stream, group, 'c1', { count: 2 });
      await storage.readGroup(stream, group, 'c2', { count: 2 });
      await storage.ack(stream, group, [nth(ids, 2)]);
      await f.sleep(200);
      const consumers = await storage.consumers(stream, group);
      const byName = [...consumers].sort((a, b) => a.name.localeCompare(b.name));
      expect(byName.map((c) => [c.name, c.pending])).toEqual([
        ['c1', 2],
        ['c2', 0],
      ]);
      for (const consumer of consumers) {
        expectIdleAbout(consumer.idleMs, 200);
        expect(consumer.inactiveMs === null || typeof consumer.inactiveMs === 'number').toBe(true);
      }
    });

    it('deleteConsumer resolves its pending count and drops its entries from the PEL', async () => {
      const { storage, stream, group } = await streamWithEntries(use(), 3);
      await storage.readGroup(stream, group, 'c1', { count: 2 });
      await storage.readGroup(stream, group, 'c2', { count: 2 });
      expect(await storage.deleteConsumer(stream, group, 'c1')).toBe(2);
      expect((await storage.consumers(stream, group)).map((c) => c.name)).toEqual(['c2']);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.consumer)).toEqual(['c2']);
      expect(await storage.deleteConsumer(stream, group, 'nobody')).toBe(0);
    });

    it('destroyGroup resolves true once, then false; false for a missing stream', async () => {
      const { storage, key } = use();
      const stream = key('s');
      await storage.ensureGroup(stream, 'g');
      expect(await storage.destroyGroup(stream, 'g')).toBe(true);
      expect(await storage.destroyGroup(stream, 'g')).toBe(false);
      expect(await storage.groups(stream)).toEqual([]);
      expect(await storage.destroyGroup(key('missing'), 'g')).toBe(false);
    });
  });
}
