import { StorageClosedError } from '../../errors/storage-closed-error.js';
import type { StreamStorage } from '../../storage/stream-storage.js';
import type { TrimAckedOptions } from '../../storage/trim-acked.js';
import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { settle, streamWithEntries } from './support.js';
import { vitest } from './vitest.js';

type TrimAcked = NonNullable<StreamStorage['trimAcked']>;

/** The storage's `trimAcked`, or `undefined` for a storage without it (its cases are skipped). */
function trimmer(storage: StreamStorage): TrimAcked | undefined {
  return storage.trimAcked?.bind(storage);
}

async function idsOf(storage: StreamStorage, stream: string): Promise<string[]> {
  return (await storage.range(stream)).map((entry) => entry.id);
}

/** Read `read` entries of `group` as consumer `c` and ack the first `acked` of them. */
async function readAndAck(
  storage: StreamStorage,
  stream: string,
  group: string,
  read: number,
  acked: number,
): Promise<void> {
  const entries = await storage.readGroup(stream, group, 'c', { count: read });
  await storage.ack(
    stream,
    group,
    entries.slice(0, acked).map((entry) => entry.id),
  );
}

/** `trimAcked` (optional: skipped on a storage without it): trims only what every group acked. */
export function retentionCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('trimAcked', () => {
    it('trims below the oldest id pending in any group, and keeps that id', async (ctx) => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 10);
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      await storage.ensureGroup(stream, 'z', '0');
      await readAndAck(storage, stream, group, 10, 10);
      await readAndAck(storage, stream, 'z', 5, 3); // ids[3] and ids[4] stay pending in z
      expect(await trim(stream)).toBe(3);
      expect(await idsOf(storage, stream)).toEqual(ids.slice(3));
      // Nothing more can go until z acks.
      expect(await trim(stream)).toBe(0);
      expect(await storage.pending(stream, 'z', { count: 10 })).toHaveLength(2);
    });

    it('a group with nothing pending lets go of what it was delivered, its last delivered id included', async (ctx) => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 8);
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      await readAndAck(storage, stream, group, 5, 5);
      expect(await trim(stream)).toBe(5);
      expect(await idsOf(storage, stream)).toEqual(ids.slice(5));
      const [info] = await storage.groups(stream);
      expect(info).toMatchObject({ pending: 0, lastDeliveredId: ids[4], lag: 3 });
      // The group still reads on from where it was.
      const next = await storage.readGroup(stream, group, 'c', { count: 10 });
      expect(next.map((entry) => entry.id)).toEqual(ids.slice(5));
    });

    it('never trims what a group was not delivered yet, even one that never read', async (ctx) => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 4);
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      await storage.ensureGroup(stream, 'idle', '0');
      await readAndAck(storage, stream, group, 4, 4);
      expect(await trim(stream)).toBe(0);
      await readAndAck(storage, stream, 'idle', 2, 2);
      expect(await trim(stream)).toBe(2);
      expect(await idsOf(storage, stream)).toEqual(ids.slice(2));
    });

    it('a group created at "$" counts everything before it as delivered', async (ctx) => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 3);
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      await readAndAck(storage, stream, group, 2, 2);
      await storage.ensureGroup(stream, 'late', '$');
      expect(await trim(stream)).toBe(2);
      expect(await idsOf(storage, stream)).toEqual(ids.slice(2));
    });

    it('trims nothing from a stream without groups, and 0 from a missing stream', async (ctx) => {
      const { storage, key } = use();
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      const stream = key('plain');
      await storage.add(stream, { type: 't' });
      await storage.add(stream, { type: 't' });
      expect(await trim(stream)).toBe(0);
      expect(await storage.length(stream)).toBe(2);
      expect(await trim(key('missing'))).toBe(0);
      expect(await storage.length(key('missing'))).toBe(0);
    });

    it('keepMs keeps entries whose id time is within keepMs of now', async (ctx) => {
      const f = use();
      const { storage } = f;
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      const stream = f.key('recent');
      await storage.ensureGroup(stream, 'g', '0');
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(await storage.add(stream, { type: 't' }));
        await f.sleep(15);
      }
      await readAndAck(storage, stream, 'g', 4, 4);
      const msOf = (id: string) => Number(id.split('-')[0]);
      // "now" is 10 ms after ids[2]: with keepMs 10, ids[2] and ids[3] are recent.
      const now = msOf(nth(ids, 2)) + 10;
      expect(await trim(stream, { keepMs: 10, now })).toBe(2);
      expect(await idsOf(storage, stream)).toEqual(ids.slice(2));
      // Without `now`, the storage's own clock: every entry left is within the last hour.
      expect(await trim(stream, { keepMs: 3_600_000 })).toBe(0);
      expect(await trim(stream, { keepMs: 0 })).toBe(2);
    });

    it('rejects bad arguments with a TypeError that names them, before touching the stream', async (ctx) => {
      const { storage, stream, group } = await streamWithEntries(use(), 2);
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      await readAndAck(storage, stream, group, 2, 2);
      const bad: [string, () => Promise<number>][] = [
        ['stream', () => trim('')],
        ['options', () => trim(stream, null as unknown as TrimAckedOptions)],
        ['keepMs', () => trim(stream, { keepMs: -1 })],
        ['keepMs', () => trim(stream, { keepMs: 1.5 })],
        ['now', () => trim(stream, { keepMs: 1, now: Number.NaN })],
      ];
      for (const [what, call] of bad) {
        const outcome = await settle(call());
        expect(outcome, what).toBeInstanceOf(TypeError);
        expect((outcome as Error).message, what).toContain(`\`${what}\``);
      }
      expect(await storage.length(stream)).toBe(2);
    });

    it('a closed storage rejects trimAcked with StorageClosedError', async (ctx) => {
      const { storage, stream } = await streamWithEntries(use(), 1);
      const trim = trimmer(storage);
      if (trim === undefined) return ctx.skip();
      await storage.close();
      expect(await settle(trim(stream))).toBeInstanceOf(StorageClosedError);
    });
  });
}
