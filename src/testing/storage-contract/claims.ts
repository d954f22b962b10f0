import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { expectIdleAbout, streamWithEntries } from './support.js';
import { vitest } from './vitest.js';

export function claimCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('pending, claim, autoClaim, touch', () => {
    it('pending lists id, consumer, idle time and deliveries, filtered by consumer, idle time and range', async () => {
      const f = use();
      const { storage, stream, group, ids } = await streamWithEntries(f, 2);
      await storage.readGroup(stream, group, 'c1', { count: 1 });
      await f.sleep(200);
      await storage.readGroup(stream, group, 'c2', { count: 1 });
      const all = await storage.pending(stream, group, { count: 10 });
      expect(all.map((p) => [p.id, p.consumer, p.deliveries])).toEqual([
        [ids[0], 'c1', 1],
        [ids[1], 'c2', 1],
      ]);
      expectIdleAbout(nth(all, 0).idleMs, 200);
      expect(nth(all, 1).idleMs).toBeLessThan(200);
      const idsOf = async (options: Parameters<typeof storage.pending>[2]) =>
        (await storage.pending(stream, group, options)).map((p) => p.id);
      expect(await idsOf({ count: 10, consumer: 'c2' })).toEqual([ids[1]]);
      expect(await idsOf({ count: 10, consumer: 'nobody' })).toEqual([]);
      expect(await idsOf({ count: 10, minIdleMs: 150 })).toEqual([ids[0]]);
      expect(await idsOf({ count: 1 })).toEqual([ids[0]]);
      expect(await idsOf({ count: 10, start: `(${ids[0]}` })).toEqual([ids[1]]);
      expect(await idsOf({ count: 10, end: nth(ids, 0) })).toEqual([ids[0]]);
    });

    it('delivery counts grow with every claim and autoClaim; touch leaves them alone', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 1);
      const [read] = await storage.readGroup(stream, group, 'c1', { count: 1 });
      expect(read?.deliveries).toBe(1);
      const claimed = await storage.claim(stream, group, 'c2', ids, { minIdleMs: 0 });
      expect(claimed).toEqual({
        cursor: '0-0',
        entries: [{ id: ids[0], fields: { type: 't', n: '0' }, deliveries: 2 }],
        deletedIds: [],
      });
      const auto = await storage.autoClaim(stream, group, 'c3', { minIdleMs: 0, count: 10 });
      expect(auto).toEqual({
        cursor: '0-0',
        entries: [{ id: ids[0], fields: { type: 't', n: '0' }, deliveries: 3 }],
        deletedIds: [],
      });
      expect(await storage.touch(stream, group, 'c3', ids)).toEqual(ids);
      expect(await storage.pending(stream, group, { count: 10 })).toEqual([
        expect.objectContaining({ id: ids[0], consumer: 'c3', deliveries: 3 }),
      ]);
    });

    it('autoClaim takes entries idle at least minIdleMs from other consumers', async () => {
      const f = use();
      const { storage, stream, group, ids } = await streamWithEntries(f, 3);
      await storage.readGroup(stream, group, 'c1', { count: 3 });
      expect(await storage.autoClaim(stream, group, 'c2', { minIdleMs: 60_000, count: 10 })).toEqual({
        cursor: '0-0',
        entries: [],
        deletedIds: [],
      });
      await f.sleep(150);
      const result = await storage.autoClaim(stream, group, 'c2', { minIdleMs: 100, count: 10 });
      expect(result.cursor).toBe('0-0');
      expect(result.deletedIds).toEqual([]);
      expect(result.entries.map((entry) => [entry.id, entry.deliveries])).toEqual(ids.map((id) => [id, 2]));
      expect(result.entries[1]?.fields).toEqual({ type: 't', n: '1' });
      const pending = await storage.pending(stream, group, { count: 10 });
      expect(pending.every((p) => p.consumer === 'c2' && p.idleMs < 100)).toBe(true);
    });

    it('autoClaim walks the PEL page by page: the cursor is the next pending id, "0-0" at the end', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 5);
      await storage.readGroup(stream, group, 'c1', { count: 5 });
      const page1 = await storage.autoClaim(stream, group, 'c2', { minIdleMs: 0, count: 2 });
      expect(page1.entries.map((entry) => entry.id)).toEqual([ids[0], ids[1]]);
      expect(page1.cursor).toBe(ids[2]);
      const page2 = await storage.autoClaim(stream, group, 'c2', {
        minIdleMs: 0,
        count: 2,
        cursor: page1.cursor,
      });
      expect(page2.entries.map((entry) => entry.id)).toEqual([ids[2], ids[3]]);
      expect(page2.cursor).toBe(ids[4]);
      const page3 = await storage.autoClaim(stream, group, 'c2', {
        minIdleMs: 0,
        count: 2,
        cursor: page2.cursor,
      });
      expect(page3.entries.map((entry) => entry.id)).toEqual([ids[4]]);
      expect(page3.cursor).toBe('0-0');
      const owners = (await storage.pending(stream, group, { count: 10 })).map((p) => p.consumer);
      expect(owners).toEqual(['c2', 'c2', 'c2', 'c2', 'c2']);
    });

    it('autoClaim reports deleted pending entries in deletedIds, idle or not, and drops them from the PEL', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 3);
      await storage.readGroup(stream, group, 'c1', { count: 3 });
      await storage.delete(stream, [nth(ids, 1)]);
      const notIdle = await storage.autoClaim(stream, group, 'c2', { minIdleMs: 60_000, count: 10 });
      expect(notIdle).toEqual({ cursor: '0-0', entries: [], deletedIds: [ids[1]] });
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual([
        ids[0],
        ids[2],
      ]);
      await storage.delete(stream, [nth(ids, 0)]);
      const idle = await storage.autoClaim(stream, group, 'c2', { minIdleMs: 0, count: 10 });
      expect(idle.deletedIds).toEqual([ids[0]]);
      expect(idle.entries.map((entry) => [entry.id, entry.deliveries])).toEqual([[ids[2], 2]]);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual([ids[2]]);
    });

    it("a deleted entry uses up one of autoClaim's count like a claimed one", async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 3);
      await storage.readGroup(stream, group, 'c1', { count: 3 });
      await storage.delete(stream, [nth(ids, 0)]);
      const page = await storage.autoClaim(stream, group, 'c2', { minIdleMs: 0, count: 1 });
      expect(page).toEqual({ cursor: ids[1], entries: [], deletedIds: [ids[0]] });
    });

    it('entries trimmed by maxLen while pending come back in deletedIds and leave the PEL', async () => {
      const { storage, stream, group } = await streamWithEntries(use(), 250);
      const read = await storage.readGroup(stream, group, 'c1', { count: 250 });
      expect(read).toHaveLength(250);
      await storage.add(stream, { type: 'trim' }, { maxLen: 10 });
      const left = await storage.length(stream);
      expect(left).toBeLessThan(250);
      const result = await storage.autoClaim(stream, group, 'c2', { minIdleMs: 0, count: 300 });
      expect(result.cursor).toBe('0-0');
      expect(result.deletedIds).toHaveLength(251 - left);
      expect(result.deletedIds).toEqual(read.slice(0, 251 - left).map((entry) => entry.id));
      expect(result.entries.length + result.deletedIds.length).toBe(250);
      expect(await storage.pending(stream, group, { count: 300 })).toHaveLength(left - 1);
    });

    it('claim takes only the given pending ids that are idle enough; skips the rest', async () => {
      const f = use();
      const { storage, stream, group, ids } = await streamWithEntries(f, 3);
      await storage.readGroup(stream, group, 'c1', { count: 2 });
      expect(await storage.claim(stream, group, 'c2', [nth(ids, 0)], { minIdleMs: 60_000 })).toEqual({
        cursor: '0-0',
        entries: [],
        deletedIds: [],
      });
      await f.sleep(100);
      // ids[2] was never delivered, 1-1 does not exist: both skipped
      const result = await storage.claim(stream, group, 'c2', [nth(ids, 0), nth(ids, 2), '1-1'], {
        minIdleMs: 50,
      });
      expect(result).toEqual({
        cursor: '0-0',
        entries: [{ id: ids[0], fields: { type: 't', n: '0' }, deliveries: 2 }],
        deletedIds: [],
      });
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => [p.id, p.consumer])).toEqual([
        [ids[0], 'c2'],
        [ids[1], 'c1'],
      ]);
      expect(await storage.claim(stream, group, 'c2', [], { minIdleMs: 0 })).toEqual({
        cursor: '0-0',
        entries: [],
        deletedIds: [],
      });
    });

    it('claim drops deleted pending ids from the PEL and lists them in deletedIds, idle or not', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 3);
      await storage.readGroup(stream, group, 'c1', { count: 3 });
      await storage.delete(stream, [nth(ids, 0), nth(ids, 1)]);
      const notIdle = await storage.claim(stream, group, 'c2', [nth(ids, 0)], { minIdleMs: 60_000 });
      expect(notIdle).toEqual({ cursor: '0-0', entries: [], deletedIds: [ids[0]] });
      const result = await storage.claim(stream, group, 'c2', [nth(ids, 1), nth(ids, 2)], { minIdleMs: 0 });
      expect(result.deletedIds).toEqual([ids[1]]);
      expect(result.entries.map((entry) => [entry.id, entry.deliveries])).toEqual([[ids[2], 2]]);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual([ids[2]]);
    });

    it('touch resets idle time, moves ownership to the caller and resolves the ids still pending', async () => {
      const f = use();
      const { storage, stream, group, ids } = await streamWithEntries(f, 3);
      await storage.readGroup(stream, group, 'c1', { count: 3 });
      await storage.ack(stream, group, [nth(ids, 2)]);
      await f.sleep(200);
      expectIdleAbout(nth(await storage.pending(stream, group, { count: 1 }), 0).idleMs, 200);
      expect(await storage.touch(stream, group, 'c1', [nth(ids, 0), nth(ids, 2), '1-1'])).toEqual([ids[0]]);
      const pending = await storage.pending(stream, group, { count: 10 });
      expect(pending.map((p) => [p.id, p.consumer, p.deliveries])).toEqual([
        [ids[0], 'c1', 1],
        [ids[1], 'c1', 1],
      ]);
      expect(nth(pending, 0).idleMs).toBeLessThan(100);
      expectIdleAbout(nth(pending, 1).idleMs, 200);
      expect(await storage.touch(stream, group, 'c2', [nth(ids, 1)])).toEqual([ids[1]]);
      expect((await storage.pending(stream, group, { count: 10, consumer: 'c2' })).map((p) => p.id)).toEqual([
        ids[1],
      ]);
      expect(await storage.touch(stream, group, 'c2', [])).toEqual([]);
    });

    it('touch drops deleted pending ids from the PEL and does not resolve them', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 2);
      await storage.readGroup(stream, group, 'c1', { count: 2 });
      await storage.delete(stream, [nth(ids, 0)]);
      expect(await storage.touch(stream, group, 'c1', ids)).toEqual([ids[1]]);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual([ids[1]]);
    });
  });
}
