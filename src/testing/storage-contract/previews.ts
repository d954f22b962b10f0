import type { StreamStorage } from '../../storage/stream-storage.js';
import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { vitest } from './vitest.js';

type RangePreview = NonNullable<StreamStorage['rangePreview']>;

/** The storage's `rangePreview`, or `undefined` for a storage without it (its cases are skipped). */
function previewer(storage: StreamStorage): RangePreview | undefined {
  return storage.rangePreview?.bind(storage);
}

/** `rangePreview` (optional: skipped on a storage without it): entries cut short, sizes true. */
export function previewCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('rangePreview', () => {
    it('cuts long values, reports their full length and the whole entry size', async (ctx) => {
      const { storage, key } = use();
      const preview = previewer(storage);
      if (preview === undefined) return ctx.skip();
      const stream = key('s');
      const big = 'x'.repeat(100_000);
      const id = await storage.add(stream, { type: 't', payload: big, 'x-dead-reason': 'handler-error' });
      const [entry, ...rest] = await preview(stream, { maxValueBytes: 16 });
      expect(rest).toEqual([]);
      expect(entry).toEqual({
        id,
        bytes: 'type'.length + 1 + 'payload'.length + big.length + 'x-dead-reason'.length + 13,
        fields: { type: 't', payload: 'x'.repeat(16), 'x-dead-reason': 'handler-error' },
        truncated: { payload: 100_000 },
        omittedFields: 0,
      });
    });

    it('cuts at a character boundary and counts bytes, not characters', async (ctx) => {
      const { storage, key } = use();
      const preview = previewer(storage);
      if (preview === undefined) return ctx.skip();
      const stream = key('s');
      // é is 2 bytes, ✓ is 3: 'aé✓' is 6 bytes; cut at 4 bytes keeps 'aé' (3), not half of ✓.
      await storage.add(stream, { note: 'aé✓✓' });
      const [entry] = await preview(stream, { maxValueBytes: 4 });
      expect(entry?.fields).toEqual({ note: 'aé' });
      expect(entry?.truncated).toEqual({ note: 9 });
      expect(entry?.bytes).toBe(4 + 9);
    });

    it('keeps at most maxFields fields besides the kept ones, and leaves out over-long names', async (ctx) => {
      const { storage, key } = use();
      const preview = previewer(storage);
      if (preview === undefined) return ctx.skip();
      const stream = key('s');
      const fields: Record<string, string> = {};
      for (let i = 0; i < 50; i++) fields[`f${i}`] = String(i);
      fields['n'.repeat(40)] = 'long name';
      fields['x-dead-reason'] = 'non-retryable';
      await storage.add(stream, fields);
      const [entry] = await preview(stream, { maxValueBytes: 32, maxFields: 3, keep: ['x-dead-reason'] });
      expect(entry?.fields).toEqual({ f0: '0', f1: '1', f2: '2', 'x-dead-reason': 'non-retryable' });
      expect(entry?.omittedFields).toBe(48);
      const [whole] = await preview(stream, { maxValueBytes: 32, maxFields: 100 });
      expect(Object.keys(whole?.fields ?? {})).toHaveLength(51);
      expect(whole?.omittedFields).toBe(1);
    });

    it('honours start, end, exclusive start and count like range; a missing stream is empty', async (ctx) => {
      const { storage, key } = use();
      const preview = previewer(storage);
      if (preview === undefined) return ctx.skip();
      const stream = key('s');
      const ids: string[] = [];
      for (let i = 0; i < 150; i++) ids.push(await storage.add(stream, { type: 't', i: String(i) }));
      const idsOf = async (options: Parameters<RangePreview>[1]) =>
        (await preview(stream, options)).map((entry) => entry.id);
      expect(await idsOf({ maxValueBytes: 8 })).toEqual(ids);
      expect(await idsOf({ maxValueBytes: 8, count: 120 })).toEqual(ids.slice(0, 120));
      expect(await idsOf({ maxValueBytes: 8, start: `(${nth(ids, 1)}`, end: nth(ids, 3) })).toEqual(
        ids.slice(2, 4),
      );
      expect(await preview(key('missing'), { maxValueBytes: 8 })).toEqual([]);
    });

    it('reads big entries whole on the server: 6 of 1 MiB, with and without count', async (ctx) => {
      const { storage, key } = use();
      const preview = previewer(storage);
      if (preview === undefined) return ctx.skip();
      const stream = key('s');
      const mib = 'm'.repeat(1024 * 1024);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await storage.add(stream, { i: String(i), blob: mib }));
      const all = await preview(stream, { maxValueBytes: 4 });
      expect(all.map((entry) => entry.id)).toEqual(ids);
      expect(all.map((entry) => entry.bytes)).toEqual(ids.map(() => 1 + 1 + 4 + mib.length));
      const five = await preview(stream, { maxValueBytes: 4, count: 5, start: nth(ids, 0) });
      expect(five.map((entry) => entry.id)).toEqual(ids.slice(0, 5));
      expect(five[4]?.fields).toEqual({ i: '4', blob: 'mmmm' });
    });

    it('rejects a bad maxValueBytes, maxFields or keep with a TypeError naming it', async (ctx) => {
      const { storage, key } = use();
      const preview = previewer(storage);
      if (preview === undefined) return ctx.skip();
      const stream = key('s');
      await expect(preview(stream, { maxValueBytes: 0 })).rejects.toThrow(/maxValueBytes/);
      await expect(preview(stream, { maxValueBytes: 8, maxFields: -1 })).rejects.toThrow(/maxFields/);
      await expect(preview(stream, { maxValueBytes: 8, keep: [1] as never })).rejects.toThrow(/keep/);
      await expect(preview(stream, { maxValueBytes: 8, count: 0 })).rejects.toThrow(TypeError);
    });
  });
}
