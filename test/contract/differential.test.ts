import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import type {
  AddOptions,
  AutoClaimOptions,
  DeadLetterWrite,
  DeleteIdleConsumersOptions,
  PendingOptions,
  RangeOptions,
  StreamFields,
  StreamStorage,
} from '../../src/storage/stream-storage.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

// Differential test: random operation sequences run against RedisStreamStorage on the shared Redis
// and MemoryStreamStorage side by side; every result (or error class) must be the same. Real Redis is
// the oracle. Ids are compared by order of first appearance; idle times are left out (the two clocks
// differ), so time-dependent options are only 0 or far beyond any test's duration.
//
// `maxLen` is `MAXLEN ~`, which drops whole radix-tree nodes; the twin lays out the same nodes. The
// property runs once per profile, each with its own node boundaries: Redis' defaults with small
// entries (100 per node, so 40 operations never fill one), large entries (4 per node, by
// `stream-node-max-bytes`), and a private server with `stream-node-max-entries 3` (nodes fill, empty
// by XDEL and are trimmed all the time).
interface Profile {
  readonly name: string;
  /** A field of every entry; its size decides how many entries fit in a node by bytes. */
  readonly pad: string;
  /** Redis' `stream-node-max-entries` on a private server; the shared Redis (defaults) without. */
  readonly nodeMaxEntries?: number;
}

const PROFILES: readonly Profile[] = [
  { name: 'Redis defaults, small entries', pad: 'p' },
  { name: 'Redis defaults, 1 kB entries (nodes full by bytes)', pad: 'x'.repeat(1000) },
  { name: 'stream-node-max-entries 3', pad: 'p', nodeMaxEntries: 3 },
];

const STREAMS = ['s0', 's1'] as const;
const GROUPS = ['g0', 'g1'] as const;
const CONSUMERS = ['c0', 'c1', 'c2'] as const;
const HOUR = 3_600_000;

/** An id argument: the n-th id seen so far (modulo), or a literal that never exists. */
type IdRef = { ref: number } | { literal: '1-0' };
type Bound = { id: IdRef; exclusive: boolean } | '-' | '+';

type Op =
  | { op: 'add'; stream: number; maxLen?: number }
  | { op: 'readGroup'; stream: number; group: number; consumer: number; count: number }
  | { op: 'ack'; stream: number; group: number; ids: IdRef[] }
  | { op: 'autoClaim'; stream: number; group: number; consumer: number; count: number; cursor?: IdRef }
  | { op: 'claim'; stream: number; group: number; consumer: number; ids: IdRef[] }
  | { op: 'touch'; stream: number; group: number; consumer: number; ids: IdRef[] }
  | {
      op: 'pending';
      stream: number;
      group: number;
      count: number;
      consumer?: number;
      start?: Bound;
      end?: Bound;
      minIdleMs?: number;
    }
  | { op: 'delete'; stream: number; ids: IdRef[] }
  | { op: 'range'; stream: number; start?: Bound; end?: Bound; count?: number }
  | { op: 'length'; stream: number }
  | { op: 'groups'; stream: number }
  | { op: 'consumers'; stream: number; group: number }
  | { op: 'deleteConsumer'; stream: number; group: number; consumer: number }
  | { op: 'deleteIdleConsumers'; stream: number; group: number; minIdleMs: number; keep?: number }
  | { op: 'destroyGroup'; stream: number; group: number }
  | { op: 'ensureGroup'; stream: number; group: number; start: '$' | '0' | IdRef }
  | { op: 'deadLetter'; stream: number; group: number; id: IdRef; maxLen?: number }
  | { op: 'trimAcked'; stream: number };

// Mostly the stream and group of the preamble, so most operations find state to work on; the others
// (and ops before their ensureGroup) cover NOGROUP.
const stream = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.constant(1), weight: 1 });
const group = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.constant(1), weight: 1 });
const consumer = fc.nat({ max: CONSUMERS.length - 1 });
const count = fc.integer({ min: 1, max: 4 });
const idRef: fc.Arbitrary<IdRef> = fc.oneof(
  { arbitrary: fc.nat({ max: 40 }).map((ref) => ({ ref })), weight: 9 },
  { arbitrary: fc.constant({ literal: '1-0' as const }), weight: 1 },
);
const ids = fc.array(idRef, { minLength: 1, maxLength: 4 });
const bound: fc.Arbitrary<Bound> = fc.oneof(
  fc.constantFrom('-' as const, '+' as const),
  fc.record({ id: idRef, exclusive: fc.boolean() }),
);
const maxLen = fc.integer({ min: 1, max: 5 });

/** Optional properties really absent (exactOptionalPropertyTypes), never `undefined`. */
function optional<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined, freq: 2 });
}
/** Drop `undefined` properties, so the value fits `exactOptionalPropertyTypes` options. */
function compact<T>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
const toOp = (value: object): Op => compact<Record<string, unknown>>(value as Record<string, unknown>) as Op;

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ op: fc.constant('add' as const), stream, maxLen: optional(maxLen) }).map(toOp),
    weight: 8,
  },
  {
    arbitrary: fc.record({ op: fc.constant('readGroup' as const), stream, group, consumer, count }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant('ack' as const), stream, group, ids }), weight: 3 },
  {
    arbitrary: fc
      .record({
        op: fc.constant('autoClaim' as const),
        stream,
        group,
        consumer,
        count,
        cursor: optional(idRef),
      })
      .map(toOp),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('claim' as const), stream, group, consumer, ids }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('touch' as const), stream, group, consumer, ids }), weight: 2 },
  {
    arbitrary: fc
      .record({
        op: fc.constant('pending' as const),
        stream,
        group,
        count,
        consumer: optional(consumer),
        start: optional(bound),
        end: optional(bound),
        minIdleMs: optional(fc.constantFrom(0, 0, HOUR)),
      })
      .map(toOp),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), stream, ids }), weight: 2 },
  {
    arbitrary: fc
      .record({
        op: fc.constant('range' as const),
        stream,
        start: optional(bound),
        end: optional(bound),
        count: optional(count),
      })
      .map(toOp),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('length' as const), stream }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('groups' as const), stream }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('consumers' as const), stream, group }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('deleteConsumer' as const), stream, group, consumer }),
    weight: 1,
  },
  {
    arbitrary: fc
      .record({
        op: fc.constant('deleteIdleConsumers' as const),
        stream,
        group,
        minIdleMs: fc.constantFrom(0, HOUR),
        keep: optional(consumer),
      })
      .map(toOp),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('destroyGroup' as const), stream, group }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('ensureGroup' as const),
      stream,
      group,
      start: fc.oneof(fc.constantFrom('$' as const, '0' as const), idRef),
    }),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ op: fc.constant('deadLetter' as const), stream, group, id: idRef, maxLen: optional(maxLen) })
      .map(toOp),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('trimAcked' as const), stream }), weight: 2 },
);

/** Most sequences start from a group with history, so reads and claims have something to do. */
const PREAMBLE: Op[] = [
  { op: 'ensureGroup', stream: 0, group: 0, start: '0' },
  { op: 'add', stream: 0 },
  { op: 'add', stream: 0 },
  { op: 'add', stream: 0 },
];

/** Ids of one stream key as one storage shows them, numbered by first appearance. */
class StreamIds {
  readonly #order = new Map<string, number>();
  readonly #ids: string[] = [];

  constructor(readonly pad: string) {}

  /** `#<n>` for the n-th id seen; the literals that never exist stay as they are. */
  norm(id: string): string {
    if (id === '0-0' || id === '1-0') return id;
    let index = this.#order.get(id);
    if (index === undefined) {
      index = this.#ids.length;
      this.#order.set(id, index);
      this.#ids.push(id);
    }
    return `#${index}`;
  }

  /** The real id a reference stands for on this storage. */
  id(ref: IdRef): string {
    if ('literal' in ref) return ref.literal;
    return this.#ids.length === 0 ? '1-0' : this.#ids[ref.ref % this.#ids.length]!;
  }

  bound(value: Bound | undefined): string | undefined {
    if (value === undefined || value === '-' || value === '+') return value;
    return `${value.exclusive ? '(' : ''}${this.id(value.id)}`;
  }

  entries(list: readonly { id: string; fields: StreamFields; deliveries?: number }[]) {
    return list.map((entry) => ({
      ...entry,
      id: this.norm(entry.id),
      fields: { ...entry.fields, pad: entry.fields.pad === this.pad ? 'PAD' : 'wrong pad' },
    }));
  }
}

/**
 * One storage under test. Ids are numbered per stream key: in memory, two streams on a still clock
 * share ids, in Redis they do not; so references never cross streams.
 */
class Side {
  readonly #streams = new Map<string, StreamIds>();
  #added = 0;

  constructor(
    readonly storage: StreamStorage,
    readonly prefix: string,
    readonly pad: string,
  ) {}

  key(index: number): string {
    return `${this.prefix}${STREAMS[index]}`;
  }

  ids(key: string): StreamIds {
    let ids = this.#streams.get(key);
    if (ids === undefined) {
      ids = new StreamIds(this.pad);
      this.#streams.set(key, ids);
    }
    return ids;
  }

  fields(): StreamFields {
    return { n: String(this.#added++), pad: this.pad };
  }
}

async function run(side: Side, step: Op): Promise<unknown> {
  const { storage } = side;
  const key = side.key(step.stream);
  const ids = side.ids(key);
  switch (step.op) {
    case 'add': {
      const options = compact<AddOptions>({ maxLen: step.maxLen });
      return ids.norm(await storage.add(key, side.fields(), options));
    }
    case 'readGroup': {
      const options = { count: step.count };
      return ids.entries(
        await storage.readGroup(key, GROUPS[step.group]!, CONSUMERS[step.consumer]!, options),
      );
    }
    case 'ack':
      return storage.ack(
        key,
        GROUPS[step.group]!,
        step.ids.map((ref) => ids.id(ref)),
      );
    case 'autoClaim': {
      const options = compact<AutoClaimOptions>({
        minIdleMs: 0,
        count: step.count,
        cursor: step.cursor === undefined ? undefined : ids.id(step.cursor),
      });
      const result = await storage.autoClaim(key, GROUPS[step.group]!, CONSUMERS[step.consumer]!, options);
      return {
        cursor: ids.norm(result.cursor),
        entries: ids.entries(result.entries),
        deletedIds: result.deletedIds.map((id) => ids.norm(id)),
      };
    }
    case 'claim': {
      const claimIds = step.ids.map((ref) => ids.id(ref));
      const result = await storage.claim(key, GROUPS[step.group]!, CONSUMERS[step.consumer]!, claimIds, {
        minIdleMs: 0,
      });
      return {
        cursor: result.cursor,
        entries: ids.entries(result.entries),
        deletedIds: result.deletedIds.map((id) => ids.norm(id)),
      };
    }
    case 'touch': {
      const touchIds = step.ids.map((ref) => ids.id(ref));
      const touched = await storage.touch(key, GROUPS[step.group]!, CONSUMERS[step.consumer]!, touchIds);
      return touched.map((id) => ids.norm(id));
    }
    case 'pending': {
      const options = compact<PendingOptions>({
        count: step.count,
        consumer: step.consumer === undefined ? undefined : CONSUMERS[step.consumer],
        start: ids.bound(step.start),
        end: ids.bound(step.end),
        minIdleMs: step.minIdleMs,
      });
      const list = await storage.pending(key, GROUPS[step.group]!, options);
      return list.map(({ id, consumer, deliveries, idleMs }) => ({
        id: ids.norm(id),
        consumer,
        deliveries,
        idle: idleMs >= 0,
      }));
    }
    case 'delete':
      return storage.delete(
        key,
        step.ids.map((ref) => ids.id(ref)),
      );
    case 'range': {
      const options = compact<RangeOptions>({
        start: ids.bound(step.start),
        end: ids.bound(step.end),
        count: step.count,
      });
      return ids.entries(await storage.range(key, options));
    }
    case 'length':
      return storage.length(key);
    case 'groups':
      return (await storage.groups(key)).map((info) => ({
        ...info,
        lastDeliveredId: ids.norm(info.lastDeliveredId),
      }));
    case 'consumers':
      return (await storage.consumers(key, GROUPS[step.group]!)).map(
        ({ name, pending, idleMs, inactiveMs }) => ({
          name,
          pending,
          idle: idleMs >= 0,
          inactiveMs,
        }),
      );
    case 'deleteConsumer':
      return storage.deleteConsumer(key, GROUPS[step.group]!, CONSUMERS[step.consumer]!);
    case 'deleteIdleConsumers': {
      if (storage.deleteIdleConsumers === undefined) throw new Error('deleteIdleConsumers is missing');
      const options = compact<DeleteIdleConsumersOptions>({
        minIdleMs: step.minIdleMs,
        keep: step.keep === undefined ? undefined : CONSUMERS[step.keep],
      });
      return storage.deleteIdleConsumers(key, GROUPS[step.group]!, options);
    }
    case 'destroyGroup':
      return storage.destroyGroup(key, GROUPS[step.group]!);
    case 'ensureGroup': {
      const start = typeof step.start === 'string' ? step.start : ids.id(step.start);
      return storage.ensureGroup(key, GROUPS[step.group]!, start);
    }
    case 'deadLetter': {
      const id = ids.id(step.id);
      const deadStream = `${key}:dead`;
      const letter = compact<DeadLetterWrite>({
        deadStream,
        sourceStream: key,
        group: GROUPS[step.group]!,
        id,
        fields: { ...side.fields(), 'x-source-id': ids.norm(id) },
        maxLen: step.maxLen,
      });
      return side.ids(deadStream).norm(await storage.deadLetter(letter));
    }
    case 'trimAcked': {
      if (storage.trimAcked === undefined) throw new Error('trimAcked is missing');
      return storage.trimAcked(key);
    }
    default: {
      const never: never = step;
      throw new Error(`unknown op ${JSON.stringify(never)}`);
    }
  }
}

/** The result, or the error's class: what the two storages must agree on. */
async function outcome(side: Side, step: Op): Promise<unknown> {
  try {
    return { ok: await run(side, step) };
  } catch (error) {
    return { error: error instanceof Error ? error.name : String(error) };
  }
}

describe.each(PROFILES)('differential: MemoryStreamStorage against Redis 7, $name', (profile) => {
  let server: RedisServer | undefined;
  let redis: RedisStreamStorage;
  const prefix = uniquePrefix();
  let sequence = 0;

  beforeAll(async () => {
    if (profile.nodeMaxEntries !== undefined) {
      server = await startRedisServer({
        args: ['--stream-node-max-entries', String(profile.nodeMaxEntries)],
      });
    }
    redis = RedisStreamStorage.fromUrl(server?.url ?? sharedRedisUrl());
  });
  afterAll(async () => {
    await redis.close();
    if (server === undefined) await cleanupKeys(`${prefix}:`);
    await server?.stop();
  });

  it('gives the same results and errors for random operation sequences', async () => {
    const property = fc.asyncProperty(
      fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
      fc.array(op, { minLength: 1, maxLength: 40, size: 'max' }),
      async (withPreamble, ops) => {
        const keys = `${prefix}:${sequence++}:`;
        const clock = new SimulatedClock();
        clock.set(1_700_000_000_000);
        const memory = new MemoryStreamStorage(
          profile.nodeMaxEntries === undefined
            ? { clock }
            : { clock, streamNodeMaxEntries: profile.nodeMaxEntries },
        );
        const real = new Side(redis, keys, profile.pad);
        const twin = new Side(memory, keys, profile.pad);
        const steps = withPreamble ? [...PREAMBLE, ...ops] : ops;
        try {
          for (const [index, step] of steps.entries()) {
            const expected = await outcome(real, step);
            const actual = await outcome(twin, step);
            expect({ index, step, result: actual }).toEqual({ index, step, result: expected });
          }
        } finally {
          await memory.close();
          if (server === undefined) await cleanupKeys(keys);
        }
      },
    );
    await fc.assert(property, { numRuns: Number(process.env.DIFFERENTIAL_RUNS ?? 150) });
  }, 60_000);
});

describe('differential: argument checks of MemoryStreamStorage against Redis 7', () => {
  let redis: RedisStreamStorage;
  const prefix = uniquePrefix();

  beforeAll(() => {
    redis = RedisStreamStorage.fromUrl(sharedRedisUrl());
  });
  afterAll(async () => {
    await redis.close();
    await cleanupKeys(`${prefix}:`);
  });

  it('rejects the same bad arguments with the same errors, in the same order of checks', async () => {
    const keys = `${prefix}:bad:`;
    const memory = new MemoryStreamStorage({ clock: new SimulatedClock() });
    const huge = '18446744073709551616-0';
    const calls: [string, (storage: StreamStorage, s: string) => Promise<unknown>][] = [
      ['empty stream and group', (storage) => storage.readGroup('', '', 'c', { count: 1 })],
      ['options null', (storage, s) => storage.readGroup(s, 'g', 'c', null as unknown as { count: number })],
      ['count 0 and blockMs 0', (storage, s) => storage.readGroup(s, 'g', 'c', { count: 0, blockMs: 0 })],
      ['fractional blockMs', (storage, s) => storage.readGroup(s, 'g', 'c', { count: 1, blockMs: 1.5 })],
      ['bad id in ack', (storage, s) => storage.ack(s, 'g', ['1-0', 'x'])],
      ['ids not an array', (storage, s) => storage.delete(s, '1-0' as unknown as string[])],
      [
        'bad cursor',
        (storage, s) => storage.autoClaim(s, 'g', 'c', { minIdleMs: -1, count: 1, cursor: '+' }),
      ],
      ['bad start id', (storage, s) => storage.ensureGroup(s, 'g', '-')],
      ['fields with a number', (storage, s) => storage.add(s, { a: 1 } as unknown as StreamFields)],
      ['no fields', (storage, s) => storage.add(s, {}, { maxLen: 0 })],
      ['maxLen 0', (storage, s) => storage.add(s, { a: '1' }, { maxLen: 0 })],
      ['pending bounds', (storage, s) => storage.pending(s, 'g', { count: 1, start: '(+', end: 'x' })],
      ['pending consumer', (storage, s) => storage.pending(s, 'g', { count: 1, consumer: '' })],
      ['range count', (storage, s) => storage.range(s, { count: 0 })],
      [
        'dead letter id',
        (storage, s) =>
          storage.deadLetter({ deadStream: s, sourceStream: s, group: 'g', id: '1', fields: {} }),
      ],
      // Rejected by Redis itself (RedisCommandError), before it looks for the group.
      ['exclusive end at 0-0', (storage, s) => storage.pending(s, 'nogroup', { count: 1, end: '(0-0' })],
      [
        'exclusive start at the last id',
        (storage, s) => storage.range(s, { start: `(${huge.replace('16-0', '15-18446744073709551615')}` }),
      ],
      ['id beyond 64 bits', (storage, s) => storage.range(s, { end: huge })],
      [
        'cursor beyond 64 bits',
        (storage, s) => storage.autoClaim(s, 'nogroup', 'c', { minIdleMs: 0, count: 1, cursor: huge }),
      ],
      ['missing group with a huge id', (storage, s) => storage.ack(s, 'nogroup', [huge])],
    ];
    try {
      for (const [name, call] of calls) {
        const outcomes = [];
        for (const storage of [redis, memory]) {
          const error = await call(storage, `${keys}s`).then(
            () => undefined,
            (e: unknown) => e,
          );
          outcomes.push(
            error instanceof Error
              ? `${error.name}: ${error instanceof TypeError ? error.message : ''}`
              : error,
          );
        }
        expect(outcomes[1], name).toEqual(outcomes[0]);
        expect(outcomes[0], name).toBeDefined();
      }
    } finally {
      await memory.close();
    }
  });
});
