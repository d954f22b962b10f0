import { compareIds } from '../../storage/validate.js';
import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { vitest } from './vitest.js';

export function entryCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('add, range, length, delete', () => {
    it('add resolves increasing ids and range returns the entries in order with their fields', async () => {
      const { storage, key } = use();
      const stream = key('s');
      const fields = [
        { type: 'a', payload: '{"n":1}' },
        { type: 'b', note: 'üñí ✓', empty: '' },
        { type: 'c', 'x-header': 'v' },
      ];
      const ids: string[] = [];
      for (const f of fields) ids.push(await storage.add(stream, f));
      for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
      expect(compareIds(nth(ids, 0), nth(ids, 1))).toBe(-1);
      expect(compareIds(nth(ids, 1), nth(ids, 2))).toBe(-1);
      expect(await storage.range(stream)).toEqual(ids.map((id, i) => ({ id, fields: fields[i] })));
      expect(await storage.length(stream)).toBe(3);
    });

    it('range honours start, end, exclusive start and count', async () => {
      const { storage, key } = use();
      const stream = key('s');
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await storage.add(stream, { type: 't', i: String(i) }));
      const idsOf = async (options: Parameters<typeof storage.range>[1]) =>
        (await storage.range(stream, options)).map((entry) => entry.id);
      expect(await idsOf({ start: nth(ids, 1), end: nth(ids, 2) })).toEqual([ids[1], ids[2]]);
      expect(await idsOf({ start: `(${ids[1]}` })).toEqual([ids[2], ids[3]]);
      expect(await idsOf({ count: 2 })).toEqual([ids[0], ids[1]]);
      expect(await idsOf({ end: nth(ids, 0) })).toEqual([ids[0]]);
    });

    it('a missing stream has length 0, an empty range, and deletes nothing', async () => {
      const { storage, key } = use();
      const stream = key('missing');
      expect(await storage.length(stream)).toBe(0);
      expect(await storage.range(stream)).toEqual([]);
      expect(await storage.delete(stream, ['1-0'])).toBe(0);
    });

    it('delete resolves how many entries it removed', async () => {
      const { storage, key } = use();
      const stream = key('s');
      const a = await storage.add(stream, { type: 'a' });
      const b = await storage.add(stream, { type: 'b' });
      expect(await storage.delete(stream, [a, '1-1'])).toBe(1);
      expect(await storage.delete(stream, [a])).toBe(0);
      expect(await storage.delete(stream, [])).toBe(0);
      expect((await storage.range(stream)).map((entry) => entry.id)).toEqual([b]);
      expect(await storage.length(stream)).toBe(1);
    });

    it('maxLen trims the oldest entries, keeping at least maxLen (Redis trims whole nodes with ~)', async () => {
      const { storage, key } = use();
      const stream = key('s');
      const first = await storage.add(stream, { type: 't' });
      for (let i = 0; i < 248; i++) await storage.add(stream, { type: 't' });
      const last = await storage.add(stream, { type: 't' }, { maxLen: 10 });
      const length = await storage.length(stream);
      expect(length).toBeGreaterThanOrEqual(10);
      expect(length).toBeLessThan(250);
      const entries = await storage.range(stream);
      expect(entries.at(-1)?.id).toBe(last);
      expect(entries[0]?.id).not.toBe(first);
    });
  });
}
