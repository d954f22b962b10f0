import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import type { StreamFields } from '../../src/storage/stream-storage.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// Where MemoryStreamStorage closes a node (so where `maxLen` trims) against Redis 7, byte for byte.
// Both get the same entries with the same ids (explicit on Redis, the simulated clock in memory), so
// their listpacks are the same size; `MAXLEN ~ 1` on the last add then leaves only the tail node, whose
// length shows where every earlier node boundary fell. The random differential test cannot see an error
// of a byte or two: its two storages make different ids, so its entries are sized with a margin.

const T0 = 1_700_000_000_000;
const ENTRIES = 250;

interface Case {
  readonly name: string;
  /** Fields of the i-th entry. */
  fields(i: number): StreamFields;
  /** Entries per millisecond: 1 gives seq 0 everywhere, more gives growing and negative seq deltas. */
  readonly perMs: number;
}

const text = (n: number) => 'x'.repeat(n);
const cases: Case[] = [];
for (const pad of [
  0, 1, 40, 55, 62, 63, 64, 90, 126, 127, 128, 300, 333, 700, 1000, 1011, 1333, 2040, 4000, 4100,
]) {
  cases.push({ name: `pad ${pad}`, fields: (i) => ({ n: String(i), pad: text(pad) }), perMs: 1 });
  cases.push({
    name: `pad ${pad}, 7 per ms`,
    fields: (i) => ({ type: 't', pad: text(pad + (i % 3)) }),
    perMs: 7,
  });
}
cases.push(
  {
    name: 'integer-like values of every width',
    fields: (i) => ({ a: String(17 ** (i % 14)), b: String(-(13 ** (i % 17))), pad: text(150) }),
    perMs: 3,
  },
  {
    name: 'values that look like integers but are not (leading zeros, +, -0, 20 digits)',
    fields: (i) => ({ a: ['007', '+5', '-0', '99999999999999999999', ''][i % 5]!, pad: text(180) }),
    perMs: 2,
  },
  {
    name: 'field sets that differ from the first entry of the node',
    fields: (i) =>
      i % 4 === 0 ? { type: 't', pad: text(200) } : { type: 't', extra: 'e', pad: text(190 + i) },
    perMs: 1,
  },
  { name: 'multi-byte characters', fields: (i) => ({ type: 'é✓', pad: 'ü'.repeat(90 + i) }), perMs: 1 },
  {
    name: 'a value past 4095 bytes, then small ones',
    fields: (i) => ({ pad: i % 9 === 0 ? text(5000) : text(64 + i) }),
    perMs: 1,
  },
);

describe('MemoryStreamStorage node boundaries against Redis 7', () => {
  let redis: Redis;
  const prefix = uniquePrefix();
  beforeAll(() => {
    redis = new Redis(sharedRedisUrl(), { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis.disconnect();
    await cleanupKeys(`${prefix}:`);
  });

  it.each(cases)('$name: MAXLEN ~ 1 leaves the same tail node', async ({ name, fields, perMs }) => {
    const key = `${prefix}:${name}`;
    const clock = new SimulatedClock();
    const memory = new MemoryStreamStorage({ clock });
    for (let i = 0; i < ENTRIES; i++) {
      const ms = T0 + Math.floor(i / perMs);
      const trim = i === ENTRIES - 1 ? ['MAXLEN', '~', 1] : [];
      const flat = Object.entries(fields(i)).flat();
      const id = (await redis.call('XADD', key, ...trim, `${ms}-${i % perMs}`, ...flat)) as string;
      clock.set(ms);
      const twinId = await memory.add('s', fields(i), i === ENTRIES - 1 ? { maxLen: 1 } : {});
      expect(twinId).toBe(id);
    }
    const tail = Number(await redis.call('XLEN', key));
    expect(tail).toBeLessThan(ENTRIES); // Redis did drop nodes: the case says something
    expect(await memory.length('s')).toBe(tail);
    await memory.close();
  });
});
