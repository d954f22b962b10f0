import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { Clock } from '../../src/clock.js';
import { NoGroupError } from '../../src/errors/no-group-error.js';
import { RedisCommandError } from '../../src/errors/redis-command-error.js';
import { StorageClosedError } from '../../src/errors/storage-closed-error.js';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';

const T0 = 1_700_000_000_000;
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup() {
  const clock = new SimulatedClock();
  clock.set(T0);
  const storage = new MemoryStreamStorage({ clock });
  return { clock, storage };
}

/** A clock the test can move backwards (SimulatedClock refuses to). */
function manualClock(start: number): Clock & { at: number } {
  return {
    at: start,
    now() {
      return this.at;
    },
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
  };
}

describe('MemoryStreamStorage ids and add', () => {
  it('makes ids from the clock, increments seq within a millisecond and never goes backwards', async () => {
    const clock = manualClock(T0);
    const storage = new MemoryStreamStorage({ clock });
    expect(await storage.add('s', { a: '1' })).toBe(`${T0}-0`);
    expect(await storage.add('s', { a: '2' })).toBe(`${T0}-1`);
    clock.at = T0 - 5000;
    expect(await storage.add('s', { a: '3' })).toBe(`${T0}-2`);
    clock.at = T0 + 1;
    expect(await storage.add('s', { a: '4' })).toBe(`${T0 + 1}-0`);
    expect(await storage.add('other', { a: '1' })).toBe(`${T0 + 1}-0`);
    expect(await storage.length('s')).toBe(4);
    expect(storage.kind).toBe('memory');
  });

  it('keeps the last id after every entry is deleted', async () => {
    const { storage } = setup();
    const id = await storage.add('s', { a: '1' });
    expect(await storage.delete('s', [id, id])).toBe(1);
    expect(await storage.length('s')).toBe(0);
    expect(await storage.add('s', { a: '2' })).toBe(`${T0}-1`);
  });

  it('trims like MAXLEN ~ on Redis 7: whole nodes of 100 entries, never below maxLen', async () => {
    const { storage } = setup();
    const numbers = async (stream: string) => (await storage.range(stream)).map((entry) => entry.fields.n);
    // 6 entries fit in one node: nothing to drop (Redis 7.0 answers the same, checked by hand).
    for (let i = 0; i < 5; i++) await storage.add('short', { n: String(i) });
    await storage.add('short', { n: '5' }, { maxLen: 3 });
    expect(await storage.length('short')).toBe(6);
    // 251 entries in nodes of 100, 100, 51: the first node goes, the second would leave 51 < 120.
    for (let i = 0; i < 250; i++) await storage.add('long', { n: String(i) });
    await storage.add('long', { n: '250' }, { maxLen: 120 });
    expect(await storage.length('long')).toBe(151);
    expect((await numbers('long'))[0]).toBe('100');
  });

  it('takes the node size of the Redis it stands in for (stream-node-max-entries)', async () => {
    const storage = new MemoryStreamStorage({ clock: manualClock(10), streamNodeMaxEntries: 2 });
    for (let i = 0; i < 5; i++) await storage.add('s', { n: String(i) });
    await storage.add('s', { n: '5' }, { maxLen: 3 });
    expect((await storage.range('s')).map((entry) => entry.fields.n)).toEqual(['2', '3', '4', '5']);
    expect(() => new MemoryStreamStorage({ streamNodeMaxEntries: -1 })).toThrow(/streamNodeMaxEntries/);
  });

  it('copies fields in and out, so callers cannot change stored entries', async () => {
    const { storage } = setup();
    const fields = { type: 'a' };
    await storage.ensureGroup('s', 'g', '0');
    await storage.add('s', fields);
    fields.type = 'changed';
    const [read] = await storage.readGroup('s', 'g', 'c', { count: 1 });
    (read!.fields as Record<string, string>).type = 'mutated';
    const [ranged] = await storage.range('s');
    expect(ranged!.fields).toEqual({ type: 'a' });
  });
});

describe('MemoryStreamStorage range, length, delete', () => {
  it('supports inclusive, exclusive and partial bounds and a count', async () => {
    const clock = manualClock(10);
    const storage = new MemoryStreamStorage({ clock });
    await storage.add('s', { n: '0' }); // 10-0
    await storage.add('s', { n: '1' }); // 10-1
    clock.at = 20;
    await storage.add('s', { n: '2' }); // 20-0
    const ids = async (options: Parameters<MemoryStreamStorage['range']>[1]) =>
      (await storage.range('s', options)).map((entry) => entry.id);
    expect(await ids({})).toEqual(['10-0', '10-1', '20-0']);
    expect(await ids({ start: '(10-0' })).toEqual(['10-1', '20-0']);
    expect(await ids({ end: '(20-0' })).toEqual(['10-0', '10-1']);
    expect(await ids({ start: '10', end: '10' })).toEqual(['10-0', '10-1']);
    expect(await ids({ start: '(10' })).toEqual(['10-1', '20-0']);
    // A partial end means `<ms>-<max seq>`, so excluding it still includes 20-0 (as in Redis).
    expect(await ids({ start: '(10', end: '(20' })).toEqual(['10-1', '20-0']);
    expect(await ids({ start: '(10', end: '(20-0' })).toEqual(['10-1']);
    expect(await ids({ count: 2 })).toEqual(['10-0', '10-1']);
    expect(await ids({ start: '20-1' })).toEqual([]);
    expect(await storage.range('missing')).toEqual([]);
    expect(await storage.length('missing')).toBe(0);
    expect(await storage.delete('s', ['10-1', '99-0'])).toBe(1);
    expect(await ids({})).toEqual(['10-0', '20-0']);
    expect(await storage.delete('missing', ['1-0'])).toBe(0);
  });

  it('rejects the intervals Redis rejects', async () => {
    const { storage } = setup();
    await expect(storage.range('s', { end: '(0-0' })).rejects.toBeInstanceOf(RedisCommandError);
    await expect(
      storage.range('s', { start: '(18446744073709551615-18446744073709551615' }),
    ).rejects.toBeInstanceOf(RedisCommandError);
    await expect(storage.range('s', { start: '18446744073709551616' })).rejects.toBeInstanceOf(
      RedisCommandError,
    );
  });
});

describe('MemoryStreamStorage groups and readGroup', () => {
  it('creates a group once, with MKSTREAM, at $, 0 or an id', async () => {
    const { storage } = setup();
    expect(await storage.ensureGroup('s', 'g')).toBe(true);
    expect(await storage.ensureGroup('s', 'g', '0')).toBe(false);
    expect(await storage.length('s')).toBe(0);
    const first = await storage.add('s', { n: '1' });
    await storage.add('s', { n: '2' });
    await storage.ensureGroup('s', 'all', '0');
    await storage.ensureGroup('s', 'new', '$');
    await storage.ensureGroup('s', 'after-first', first);
    const read = async (group: string) =>
      (await storage.readGroup('s', group, 'c', { count: 10 })).map((entry) => entry.fields.n);
    expect(await read('g')).toEqual(['1', '2']);
    expect(await read('all')).toEqual(['1', '2']);
    expect(await read('new')).toEqual([]);
    expect(await read('after-first')).toEqual(['2']);
  });

  it('delivers new entries once, COUNT at a time, each pending with one delivery', async () => {
    const { clock, storage } = setup();
    await storage.ensureGroup('s', 'g', '$');
    const ids = [await storage.add('s', { n: '1' }), await storage.add('s', { n: '2' })];
    await storage.add('s', { n: '3' });
    const first = await storage.readGroup('s', 'g', 'c1', { count: 2 });
    expect(first).toEqual([
      { id: ids[0], fields: { n: '1' }, deliveries: 1 },
      { id: ids[1], fields: { n: '2' }, deliveries: 1 },
    ]);
    clock.increment(5);
    const second = await storage.readGroup('s', 'g', 'c2', { count: 2 });
    expect(second.map((entry) => entry.fields.n)).toEqual(['3']);
    expect(await storage.readGroup('s', 'g', 'c1', { count: 2 })).toEqual([]);
    clock.increment(10);
    expect(await storage.pending('s', 'g', { count: 10 })).toEqual([
      { id: ids[0], consumer: 'c1', idleMs: 15, deliveries: 1 },
      { id: ids[1], consumer: 'c1', idleMs: 15, deliveries: 1 },
      { id: second[0]!.id, consumer: 'c2', idleMs: 10, deliveries: 1 },
    ]);
  });

  it('raises NoGroupError for a missing stream or group', async () => {
    const { storage } = setup();
    await expect(storage.readGroup('none', 'g', 'c', { count: 1 })).rejects.toBeInstanceOf(NoGroupError);
    await storage.add('s', { a: '1' });
    const error = await storage.readGroup('s', 'g', 'c', { count: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoGroupError);
    expect(error).toMatchObject({ stream: 's', group: 'g', code: 'NOGROUP' });
    for (const call of [
      () => storage.ack('s', 'g', ['1-0']),
      () => storage.autoClaim('s', 'g', 'c', { minIdleMs: 0, count: 1 }),
      () => storage.claim('s', 'g', 'c', ['1-0'], { minIdleMs: 0 }),
      () => storage.touch('s', 'g', 'c', ['1-0']),
      () => storage.pending('s', 'g', { count: 1 }),
      () => storage.consumers('s', 'g'),
      () => storage.consumers('none', 'g'),
      () => storage.deleteConsumer('s', 'g', 'c'),
      () => storage.deleteConsumer('none', 'g', 'c'),
      () =>
        storage.deadLetter({ deadStream: 'd', sourceStream: 's', group: 'g', id: '1-0', fields: { a: '1' } }),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NoGroupError);
    }
    expect(await storage.range('d')).toHaveLength(1);
    expect(await storage.destroyGroup('s', 'g')).toBe(false);
    expect(await storage.destroyGroup('none', 'g')).toBe(false);
    expect(await storage.groups('none')).toEqual([]);
  });

  it('reports entries-read and lag like XINFO GROUPS, including after XDEL', async () => {
    const { storage } = setup();
    await storage.ensureGroup('s', 'g', '$');
    expect(await storage.groups('s')).toEqual([
      { name: 'g', consumers: 0, pending: 0, lastDeliveredId: '0-0', entriesRead: null, lag: 0 },
    ]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await storage.add('s', { n: String(i) }));
    await storage.ensureGroup('s', 'late', '$');
    await storage.readGroup('s', 'g', 'c', { count: 1 });
    let [g, late] = await storage.groups('s');
    expect(g).toMatchObject({ consumers: 1, pending: 1, lastDeliveredId: ids[0], entriesRead: 1, lag: 3 });
    expect(late).toMatchObject({ name: 'late', entriesRead: null, lag: 0, lastDeliveredId: ids[3] });
    await storage.delete('s', [ids[2]!]);
    [g] = await storage.groups('s');
    expect(g).toMatchObject({ entriesRead: 1, lag: null });
    await storage.readGroup('s', 'g', 'c', { count: 10 });
    [g] = await storage.groups('s');
    expect(g).toMatchObject({ entriesRead: 4, lag: 0, lastDeliveredId: ids[3] });
  });
});

describe('MemoryStreamStorage blocking reads', () => {
  it('wakes a blocked reader on add, and times out through the clock', async () => {
    const { clock, storage } = setup();
    await storage.ensureGroup('s', 'g', '$');
    const woken = storage.readGroup('s', 'g', 'c', { count: 5, blockMs: 1000 });
    await flush();
    const id = await storage.add('s', { n: '1' });
    expect(await woken).toEqual([{ id, fields: { n: '1' }, deliveries: 1 }]);

    let settled: unknown;
    const timedOut = storage.readGroup('s', 'g', 'c', { count: 5, blockMs: 1000 }).then((value) => {
      settled = value;
    });
    clock.increment(999);
    await flush();
    expect(settled).toBeUndefined();
    clock.increment(1);
    await timedOut;
    expect(settled).toEqual([]);
  });

  it('waits out a blockMs longer than a Node timer can hold', async () => {
    const { clock, storage } = setup();
    await storage.ensureGroup('s', 'g', '$');
    let settled: unknown;
    const read = storage.readGroup('s', 'g', 'c', { count: 1, blockMs: 3_000_000_000 }).then((value) => {
      settled = value;
    });
    clock.increment(2_147_483_647);
    await flush();
    expect(settled).toBeUndefined();
    clock.increment(3_000_000_000 - 2_147_483_647);
    await read;
    expect(settled).toEqual([]);
  });

  it('serves several blocked readers in the order they blocked, and per group', async () => {
    const { storage } = setup();
    await storage.ensureGroup('s', 'g', '$');
    await storage.ensureGroup('s', 'h', '$');
    const order: string[] = [];
    const a = storage
      .readGroup('s', 'g', 'a', { count: 1, blockMs: 1000 })
      .then((v) => order.push(`a${v.length}`));
    const b = storage
      .readGroup('s', 'g', 'b', { count: 1, blockMs: 1000 })
      .then((v) => order.push(`b${v.length}`));
    const h = storage
      .readGroup('s', 'h', 'x', { count: 1, blockMs: 1000 })
      .then((v) => order.push(`h${v.length}`));
    await flush();
    await storage.add('s', { n: '1' });
    await flush();
    expect(order).toEqual(['a1', 'h1']);
    await storage.add('s', { n: '2' });
    await Promise.all([a, b, h]);
    expect(order).toEqual(['a1', 'h1', 'b1']);
  });

  it('ends blocked reads with NoGroupError when the group is destroyed or the stream deleted', async () => {
    const { storage } = setup();
    await storage.ensureGroup('s', 'g', '$');
    await storage.ensureGroup('s', 'other', '$');
    const destroyed = storage.readGroup('s', 'g', 'c', { count: 1, blockMs: 1000 });
    let otherSettled = false;
    const other = storage.readGroup('s', 'other', 'c', { count: 1, blockMs: 1000 }).finally(() => {
      otherSettled = true;
    });
    await flush();
    expect(await storage.destroyGroup('s', 'g')).toBe(true);
    await expect(destroyed).rejects.toBeInstanceOf(NoGroupError);
    await flush();
    expect(otherSettled).toBe(false);
    expect(await storage.deleteStream('s')).toBe(true);
    await expect(other).rejects.toBeInstanceOf(NoGroupError);
    expect(await storage.deleteStream('s')).toBe(false);
  });

  it('rejects blocked reads with StorageClosedError on close and clears their timers', async () => {
    const cleared: unknown[] = [];
    const started: unknown[] = [];
    const clock = new SimulatedClock();
    const spy: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms) => {
        const handle = clock.setTimeout(fn, ms);
        started.push(handle);
        return handle;
      },
      clearTimeout: (handle) => {
        cleared.push(handle);
        clock.clearTimeout(handle as number);
      },
    };
    const storage = new MemoryStreamStorage({ clock: spy });
    await storage.ensureGroup('s', 'g', '$');
    const read = storage.readGroup('s', 'g', 'c', { count: 1, blockMs: 60_000 });
    await flush();
    const closing = storage.close();
    expect(storage.close()).toBe(closing);
    await closing;
    await expect(read).rejects.toBeInstanceOf(StorageClosedError);
    expect(cleared).toEqual(started);
    await expect(storage.add('s', { a: '1' })).rejects.toBeInstanceOf(StorageClosedError);
    await expect(storage.length('s')).rejects.toThrow(/length\(\)/);
  });
});

describe('MemoryStreamStorage PEL: ack, claim, autoClaim, touch, pending', () => {
  async function withPending(count: number) {
    const context = setup();
    await context.storage.ensureGroup('s', 'g', '$');
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await context.storage.add('s', { n: String(i) }));
    await context.storage.readGroup('s', 'g', 'dead', { count });
    return { ...context, ids };
  }

  it('acks pending ids once', async () => {
    const { storage, ids } = await withPending(3);
    expect(await storage.ack('s', 'g', [ids[0]!, ids[0]!, '1-1'])).toBe(1);
    expect(await storage.ack('s', 'g', [])).toBe(0);
    expect((await storage.pending('s', 'g', { count: 10 })).map((p) => p.id)).toEqual(ids.slice(1));
  });

  it('walks the PEL with a cursor, claims idle entries, counts deliveries and reports deleted ids', async () => {
    const { clock, storage, ids } = await withPending(5);
    await storage.delete('s', [ids[1]!]);
    clock.increment(100);
    const page1 = await storage.autoClaim('s', 'g', 'live', { minIdleMs: 50, count: 2 });
    expect(page1.entries.map((e) => [e.id, e.deliveries])).toEqual([[ids[0], 2]]);
    expect(page1.deletedIds).toEqual([ids[1]]);
    expect(page1.cursor).toBe(ids[2]);
    const page2 = await storage.autoClaim('s', 'g', 'live', {
      minIdleMs: 50,
      count: 2,
      cursor: page1.cursor,
    });
    expect(page2.entries.map((e) => e.id)).toEqual([ids[2], ids[3]]);
    expect(page2.cursor).toBe(ids[4]);
    const page3 = await storage.autoClaim('s', 'g', 'live', {
      minIdleMs: 50,
      count: 2,
      cursor: page2.cursor,
    });
    expect(page3).toEqual({
      cursor: '0-0',
      entries: [{ id: ids[4], fields: { n: '4' }, deliveries: 2 }],
      deletedIds: [],
    });
    // Just claimed: not idle any more.
    const again = await storage.autoClaim('s', 'g', 'other', { minIdleMs: 50, count: 10 });
    expect(again).toEqual({ cursor: '0-0', entries: [], deletedIds: [] });
    expect(await storage.consumers('s', 'g')).toEqual([
      { name: 'dead', pending: 0, idleMs: 100, inactiveMs: null },
      { name: 'live', pending: 4, idleMs: 0, inactiveMs: null },
    ]);
  });

  it('stops an autoClaim page after count * 10 examined entries', async () => {
    const { clock, storage, ids } = await withPending(12);
    clock.increment(10);
    await storage.touch('s', 'g', 'dead', ids.slice(0, 11));
    const page = await storage.autoClaim('s', 'g', 'x', { minIdleMs: 5, count: 1 });
    expect(page).toEqual({ cursor: ids[10], entries: [], deletedIds: [] });
    expect(await storage.consumers('s', 'g')).toHaveLength(1);
  });

  it('claims given ids (idle enough, still pending), and drops deleted ones from the PEL', async () => {
    const { clock, storage, ids } = await withPending(3);
    await storage.delete('s', [ids[2]!]);
    clock.increment(10);
    // The second ids[0] is no longer idle enough: the first claim of this same command reset it.
    const result = await storage.claim('s', 'g', 'me', [ids[0]!, ids[2]!, '1-0', ids[0]!], { minIdleMs: 5 });
    expect(result.entries.map((e) => [e.id, e.deliveries])).toEqual([[ids[0], 2]]);
    const twice = await storage.claim('s', 'g', 'me', [ids[0]!, ids[0]!], { minIdleMs: 0 });
    expect(twice.entries.map((e) => [e.id, e.deliveries])).toEqual([
      [ids[0], 4],
      [ids[0], 4],
    ]);
    expect(result).toMatchObject({ cursor: '0-0', deletedIds: [ids[2]] });
    expect(await storage.claim('s', 'g', 'me', [ids[0]!], { minIdleMs: 5 })).toEqual({
      cursor: '0-0',
      entries: [],
      deletedIds: [],
    });
    expect((await storage.pending('s', 'g', { count: 10 })).map((p) => [p.id, p.consumer])).toEqual([
      [ids[0], 'me'],
      [ids[1], 'dead'],
    ]);
  });

  it('touch resets idle time and takes ownership without counting a delivery', async () => {
    const { clock, storage, ids } = await withPending(2);
    clock.increment(30);
    expect(await storage.touch('s', 'g', 'dead', [ids[0]!, '1-0'])).toEqual([ids[0]]);
    expect(await storage.pending('s', 'g', { count: 10 })).toEqual([
      { id: ids[0], consumer: 'dead', idleMs: 0, deliveries: 1 },
      { id: ids[1], consumer: 'dead', idleMs: 30, deliveries: 1 },
    ]);
  });

  it('filters pending by idle time, consumer and id range', async () => {
    const { clock, storage, ids } = await withPending(4);
    clock.increment(20);
    await storage.claim('s', 'g', 'b', [ids[1]!, ids[3]!], { minIdleMs: 0 });
    const list = async (options: Omit<Parameters<MemoryStreamStorage['pending']>[2], 'count'>) =>
      (await storage.pending('s', 'g', { count: 10, ...options })).map((p) => p.id);
    expect(await list({ minIdleMs: 10 })).toEqual([ids[0], ids[2]]);
    expect(await list({ consumer: 'b' })).toEqual([ids[1], ids[3]]);
    expect(await list({ consumer: 'nobody' })).toEqual([]);
    expect(await list({ start: `(${ids[0]}`, end: `(${ids[3]}` })).toEqual([ids[1], ids[2]]);
    expect(await list({ consumer: 'b', start: `(${ids[1]}` })).toEqual([ids[3]]);
    expect((await storage.pending('s', 'g', { count: 1, minIdleMs: 10 })).map((p) => p.id)).toEqual([ids[0]]);
  });

  it('deletes consumers with their pending entries and destroys groups', async () => {
    const { storage } = await withPending(2);
    expect(await storage.deleteConsumer('s', 'g', 'nobody')).toBe(0);
    expect(await storage.deleteConsumer('s', 'g', 'dead')).toBe(2);
    expect(await storage.pending('s', 'g', { count: 10 })).toEqual([]);
    expect(await storage.consumers('s', 'g')).toEqual([]);
    expect(await storage.destroyGroup('s', 'g')).toBe(true);
    expect(await storage.groups('s')).toEqual([]);
  });

  it('deletes idle consumers with nothing pending, except the one to keep', async () => {
    const { clock, storage, ids } = await withPending(2);
    await storage.claim('s', 'g', 'busy', [ids[0]!], { minIdleMs: 0 });
    await storage.ack('s', 'g', ids);
    await storage.readGroup('s', 'g', 'me', { count: 1 }); // nothing new: 'me' is not created
    await storage.add('s', { n: 'x' });
    clock.increment(100);
    await storage.readGroup('s', 'g', 'fresh', { count: 1 });
    const [pendingId] = (await storage.pending('s', 'g', { count: 1 })).map((p) => p.id);
    expect(await storage.deleteIdleConsumers('s', 'g', { minIdleMs: 50, keep: 'dead' })).toEqual(['busy']);
    expect((await storage.consumers('s', 'g')).map((c) => c.name)).toEqual(['dead', 'fresh']);
    expect(await storage.deleteIdleConsumers('s', 'g', { minIdleMs: 0 })).toEqual(['dead']);
    expect(await storage.pending('s', 'g', { count: 10 })).toMatchObject([
      { id: pendingId, consumer: 'fresh' },
    ]);
    await expect(storage.deleteIdleConsumers('s', 'nope', { minIdleMs: 0 })).rejects.toBeInstanceOf(
      NoGroupError,
    );
  });

  it('dead-letters: adds to the dead stream, then acks the source', async () => {
    const { storage, ids } = await withPending(1);
    const deadId = await storage.deadLetter({
      deadStream: 's:dead',
      sourceStream: 's',
      group: 'g',
      id: ids[0]!,
      fields: { n: '0', 'x-dead-reason': 'handler-error' },
    });
    expect(await storage.range('s:dead')).toEqual([
      { id: deadId, fields: { n: '0', 'x-dead-reason': 'handler-error' } },
    ]);
    expect(await storage.pending('s', 'g', { count: 10 })).toEqual([]);
  });
});

describe('MemoryStreamStorage argument checks', () => {
  it('throws the shared TypeErrors before doing anything', async () => {
    const { storage } = setup();
    await expect(storage.add('', { a: '1' })).rejects.toThrow(/`stream`/);
    await expect(storage.add('s', {})).rejects.toThrow(TypeError);
    await expect(storage.add('s', { a: 1 } as unknown as Record<string, string>)).rejects.toThrow(/`a`/);
    await expect(storage.add('s', { a: '1' }, { maxLen: 0 })).rejects.toThrow(/`maxLen`/);
    await expect(storage.readGroup('s', 'g', 'c', { count: 0 })).rejects.toThrow(/`count`/);
    await expect(storage.readGroup('s', 'g', 'c', { count: 1, blockMs: 0 })).rejects.toThrow(/`blockMs`/);
    await expect(storage.ack('s', 'g', ['nope'])).rejects.toThrow(/`ids\[\]`/);
    await expect(storage.ensureGroup('s', 'g', 'x')).rejects.toThrow(/`startId`/);
    await expect(storage.pending('s', 'g', { count: 1, start: 'x' })).rejects.toThrow(/`start`/);
    await expect(storage.autoClaim('s', 'g', 'c', { minIdleMs: -1, count: 1 })).rejects.toThrow(
      /`minIdleMs`/,
    );
    await expect(storage.readGroup('s', 'g', 'c', null as unknown as { count: number })).rejects.toThrow(
      /`options`/,
    );
    expect(await storage.length('s')).toBe(0);
  });
});

describe('MemoryStreamStorage at scale', () => {
  it('keeps the PEL ordered through out-of-order acks, claims and compaction', async () => {
    const { storage } = setup();
    await storage.ensureGroup('s', 'g', '$');
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) ids.push(await storage.add('s', { n: String(i) }));
    await storage.readGroup('s', 'g', 'a', { count: 5000 });
    // Ack every id not divisible by 3, from the end backwards: no slot can be reclaimed from the head.
    const acked = ids.filter((_, i) => i % 3 !== 0).reverse();
    expect(await storage.ack('s', 'g', acked)).toBe(acked.length);
    const kept = ids.filter((_, i) => i % 3 === 0);
    // Give a few entries to another consumer, out of id order.
    const moved = [kept[1500]!, kept[3]!, kept[700]!];
    await storage.claim('s', 'g', 'b', moved, { minIdleMs: 0 });
    const all = await storage.pending('s', 'g', { count: 10_000 });
    expect(all.map((p) => p.id)).toEqual(kept);
    // The consumer filter walks b's own (small, unordered) PEL in id order.
    const own = await storage.pending('s', 'g', { count: 10, consumer: 'b', start: `(${kept[3]}` });
    expect(own.map((p) => p.id)).toEqual([kept[700], kept[1500]]);
    const seen: string[] = [];
    let cursor = '0-0';
    do {
      const page = await storage.autoClaim('s', 'g', 'c', { minIdleMs: 0, count: 97, cursor });
      seen.push(...page.entries.map((entry) => entry.id));
      cursor = page.cursor;
    } while (cursor !== '0-0');
    expect(seen).toEqual(kept);
    expect(await storage.groups('s')).toMatchObject([{ pending: kept.length, entriesRead: 5000, lag: 0 }]);
  });

  it('keeps ranges and lookups right after deletes and trims reclaim space', async () => {
    const { storage } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 6000; i++) ids.push(await storage.add('s', { n: String(i) }));
    expect(
      await storage.delete(
        's',
        ids.filter((_, i) => i % 2 === 1),
      ),
    ).toBe(3000);
    await storage.add('s', { n: 'last' }, { maxLen: 1000 });
    // Nodes of 100 entries with 50 left each: 40 go, the 41st would leave 951 < 1000 (as on Redis 7.0).
    const left = await storage.range('s');
    expect(left).toHaveLength(1001);
    expect(left[0]!.id).toBe(ids[4000]);
    expect(left.at(-1)!.fields.n).toBe('last');
    expect(await storage.range('s', { start: ids[5001]!, count: 2 })).toEqual([
      { id: ids[5002], fields: { n: '5002' } },
      { id: ids[5004], fields: { n: '5004' } },
    ]);
    expect(await storage.delete('s', [ids[4002]!, ids[4001]!, ids[10]!])).toBe(1);
    expect(await storage.length('s')).toBe(1000);
  });
});
