import { NoGroupError } from '../../errors/no-group-error.js';
import { StorageClosedError } from '../../errors/storage-closed-error.js';
import type { StreamStorage } from '../../storage/stream-storage.js';
import type { UseFixture } from '../storage-contract.js';
import { nth } from './nth.js';
import { settle, streamWithEntries } from './support.js';
import { vitest } from './vitest.js';

type Call = [name: string, run: (storage: StreamStorage) => Promise<unknown>];

/** Every method that needs a group, called on `stream`/`group`. */
function groupCalls(stream: string, group: string): Call[] {
  return [
    ['readGroup', (s) => s.readGroup(stream, group, 'c', { count: 1 })],
    ['readGroup blocking', (s) => s.readGroup(stream, group, 'c', { count: 1, blockMs: 5000 })],
    ['ack', (s) => s.ack(stream, group, ['1-1'])],
    ['autoClaim', (s) => s.autoClaim(stream, group, 'c', { minIdleMs: 0, count: 10 })],
    ['claim', (s) => s.claim(stream, group, 'c', ['1-1'], { minIdleMs: 0 })],
    ['touch', (s) => s.touch(stream, group, 'c', ['1-1'])],
    ['pending', (s) => s.pending(stream, group, { count: 10 })],
    ['consumers', (s) => s.consumers(stream, group)],
    ['deleteConsumer', (s) => s.deleteConsumer(stream, group, 'c')],
    [
      'deadLetter',
      (s) =>
        s.deadLetter({
          deadStream: `${stream}:dead`,
          sourceStream: stream,
          group,
          id: '1-1',
          fields: { type: 't' },
        }),
    ],
  ];
}

async function expectNoGroup(
  storage: StreamStorage,
  calls: Call[],
  stream: string,
  group: string,
): Promise<void> {
  const { expect } = vitest();
  for (const [name, run] of calls) {
    const outcome = await settle(run(storage));
    expect(outcome, name).toBeInstanceOf(NoGroupError);
    expect(outcome, name).toMatchObject({ stream, group, code: 'NOGROUP', retriable: false });
  }
}

export function errorCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('errors', () => {
    it('every group method raises NoGroupError for a missing group', async () => {
      const { storage, stream } = await streamWithEntries(use(), 1);
      await expectNoGroup(storage, groupCalls(stream, 'nope'), stream, 'nope');
    });

    it('every group method raises NoGroupError for a missing stream', async () => {
      const { storage, key } = use();
      const stream = key('missing');
      await expectNoGroup(storage, groupCalls(stream, 'g'), stream, 'g');
      expect(await storage.length(stream)).toBe(0);
    });

    it('empty id lists resolve at once, even without a group', async () => {
      const { storage, key } = use();
      const stream = key('missing');
      expect(await storage.ack(stream, 'g', [])).toBe(0);
      expect(await storage.touch(stream, 'g', 'c', [])).toEqual([]);
      expect(await storage.claim(stream, 'g', 'c', [], { minIdleMs: 0 })).toEqual({
        cursor: '0-0',
        entries: [],
        deletedIds: [],
      });
    });

    it('bad arguments reject with a TypeError naming the argument, before touching the storage', async () => {
      const { storage, key } = use();
      const stream = key('s');
      const bad: [string, () => Promise<unknown>][] = [
        ['stream', () => storage.ensureGroup('', 'g', '$')],
        ['startId', () => storage.ensureGroup(stream, 'g', 'latest')],
        ['count', () => storage.readGroup(stream, 'g', 'c', { count: 0 })],
        ['blockMs', () => storage.readGroup(stream, 'g', 'c', { count: 1, blockMs: 0 })],
        ['blockMs', () => storage.readGroup(stream, 'g', 'c', { count: 1, blockMs: 1.5 })],
        ['consumer', () => storage.readGroup(stream, 'g', '', { count: 1 })],
        ['ids', () => storage.ack(stream, 'g', ['1'])],
        ['minIdleMs', () => storage.autoClaim(stream, 'g', 'c', { minIdleMs: -1, count: 1 })],
        ['cursor', () => storage.autoClaim(stream, 'g', 'c', { minIdleMs: 0, count: 1, cursor: 'next' })],
        ['ids', () => storage.claim(stream, 'g', 'c', 'a-b' as unknown as string[], { minIdleMs: 0 })],
        ['ids', () => storage.touch(stream, 'g', 'c', ['x'])],
        ['count', () => storage.pending(stream, 'g', { count: 0 })],
        ['start', () => storage.pending(stream, 'g', { count: 1, start: 'first' })],
        ['fields', () => storage.add(stream, {})],
        ['n', () => storage.add(stream, { n: 1 as unknown as string })],
        ['maxLen', () => storage.add(stream, { type: 't' }, { maxLen: 0 })],
        ['count', () => storage.range(stream, { count: 0 })],
        ['end', () => storage.range(stream, { end: 'last' })],
        ['ids', () => storage.delete(stream, ['7'])],
        ['stream', () => storage.length('')],
        ['stream', () => storage.groups('')],
        ['group', () => storage.consumers(stream, '')],
        ['consumer', () => storage.deleteConsumer(stream, 'g', '')],
        ['group', () => storage.destroyGroup(stream, '')],
        [
          'id',
          () =>
            storage.deadLetter({
              deadStream: `${stream}:dead`,
              sourceStream: stream,
              group: 'g',
              id: 'x',
              fields: { type: 't' },
            }),
        ],
      ];
      for (const [argument, call] of bad) {
        const outcome = await settle(call());
        expect(outcome, argument).toBeInstanceOf(TypeError);
        expect((outcome as Error).message, argument).toContain(`\`${argument}`);
      }
      expect(await storage.length(stream)).toBe(0);
      expect(await storage.groups(stream)).toEqual([]);
      expect(await storage.length(`${stream}:dead`)).toBe(0);
    });

    it('deadLetter writes the dead letter, then acks the source entry; resolves the dead entry id', async () => {
      const { storage, stream, group, ids } = await streamWithEntries(use(), 2);
      await storage.readGroup(stream, group, 'c', { count: 2 });
      const deadStream = `${stream}:dead`;
      const sourceId = nth(ids, 0);
      const fields = { type: 't', n: '0', 'x-dead-reason': 'handler-error', 'x-source-id': sourceId };
      const id = await storage.deadLetter({ deadStream, sourceStream: stream, group, id: sourceId, fields });
      expect(await storage.range(deadStream)).toEqual([{ id, fields }]);
      expect((await storage.pending(stream, group, { count: 10 })).map((p) => p.id)).toEqual([ids[1]]);
      // an entry that is no longer pending is still dead-lettered
      const again = await storage.deadLetter({
        deadStream,
        sourceStream: stream,
        group,
        id: sourceId,
        fields,
        maxLen: 100,
      });
      expect((await storage.range(deadStream)).map((entry) => entry.id)).toEqual([id, again]);
    });

    it('deadLetter to a missing group writes the dead letter, then raises NoGroupError', async () => {
      const { storage, stream, ids } = await streamWithEntries(use(), 1);
      const deadStream = `${stream}:dead`;
      const outcome = await settle(
        storage.deadLetter({
          deadStream,
          sourceStream: stream,
          group: 'nope',
          id: nth(ids, 0),
          fields: { type: 't' },
        }),
      );
      expect(outcome).toBeInstanceOf(NoGroupError);
      expect(await storage.length(deadStream)).toBe(1);
    });

    it('close() is idempotent (one promise), fails blocked reads and every later call with StorageClosedError', async () => {
      const f = use();
      const { storage, stream, group, ids } = await streamWithEntries(f, 0);
      const read = settle(storage.readGroup(stream, group, 'c', { count: 1, blockMs: 10_000 }));
      await f.sleep(20);
      const closing = storage.close();
      expect(storage.close()).toBe(closing);
      expect(await read).toBeInstanceOf(StorageClosedError);
      await closing;
      const calls: [string, () => Promise<unknown>][] = [
        ['ensureGroup', () => storage.ensureGroup(stream, group, '$')],
        ['readGroup', () => storage.readGroup(stream, group, 'c', { count: 1 })],
        ['readGroup', () => storage.readGroup(stream, group, 'c', { count: 1, blockMs: 100 })],
        ['ack', () => storage.ack(stream, group, ids)],
        ['autoClaim', () => storage.autoClaim(stream, group, 'c', { minIdleMs: 0, count: 1 })],
        ['claim', () => storage.claim(stream, group, 'c', ids, { minIdleMs: 0 })],
        ['touch', () => storage.touch(stream, group, 'c', ids)],
        ['pending', () => storage.pending(stream, group, { count: 1 })],
        ['add', () => storage.add(stream, { type: 't' })],
        ['add', () => storage.add('', {})],
        ['range', () => storage.range(stream)],
        ['delete', () => storage.delete(stream, ids)],
        ['length', () => storage.length(stream)],
        ['groups', () => storage.groups(stream)],
        ['consumers', () => storage.consumers(stream, group)],
        ['deleteConsumer', () => storage.deleteConsumer(stream, group, 'c')],
        ['destroyGroup', () => storage.destroyGroup(stream, group)],
        [
          'deadLetter',
          () =>
            storage.deadLetter({
              deadStream: `${stream}:dead`,
              sourceStream: stream,
              group,
              id: '1-1',
              fields: { type: 't' },
            }),
        ],
      ];
      for (const [method, call] of calls) {
        const outcome = await settle(call());
        expect(outcome, method).toBeInstanceOf(StorageClosedError);
        expect((outcome as Error).message, method).toContain(`${method}()`);
      }
      await storage.close();
    });
  });
}
