import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NoGroupError } from '../../src/errors/no-group-error.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// deleteIdleConsumers and partition-shaped reads on the shared Redis (unique keys, cleaned up).

const prefix = uniquePrefix();
// One storage for the file: its reader connections outlive the test that opened them.
checkLeaksAtFileEnd();
const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
afterAll(() => storage.close());
afterEach(() => cleanupKeys(`${prefix}:`));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RedisStreamStorage.deleteIdleConsumers', () => {
  it('removes idle consumers with nothing pending, never one with pending entries nor the one kept', async () => {
    const stream = `${prefix}:stale`;
    await storage.ensureGroup(stream, 'g', '0');
    for (let i = 0; i < 4; i++) await storage.add(stream, { type: 't' });
    const read = async (consumer: string, ack: boolean) => {
      const [entry] = await storage.readGroup(stream, 'g', consumer, { count: 1 });
      if (ack && entry !== undefined) await storage.ack(stream, 'g', [entry.id]);
    };
    await read('busy', false); // keeps 1 pending
    await read('idle', true);
    await read('me', true);
    await sleep(60);
    await read('fresh', true);

    const removed = await storage.deleteIdleConsumers(stream, 'g', { minIdleMs: 50, keep: 'me' });

    expect(removed).toEqual(['idle']);
    const names = (await storage.consumers(stream, 'g')).map((c) => c.name).sort();
    expect(names).toEqual(['busy', 'fresh', 'me']);
    expect(await storage.pending(stream, 'g', { count: 10 })).toHaveLength(1);
  });

  it('raises NoGroupError for a missing group or stream', async () => {
    const stream = `${prefix}:nogroup`;
    await expect(storage.deleteIdleConsumers(stream, 'g', { minIdleMs: 0 })).rejects.toBeInstanceOf(
      NoGroupError,
    );
    await storage.ensureGroup(stream, 'other', '$');
    await expect(storage.deleteIdleConsumers(stream, 'g', { minIdleMs: 0 })).rejects.toBeInstanceOf(
      NoGroupError,
    );
  });

  it('rejects bad options with a TypeError', async () => {
    await expect(storage.deleteIdleConsumers(`${prefix}:x`, 'g', { minIdleMs: -1 })).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});

describe('RedisStreamStorage blocking reads of one consumer name on several streams', () => {
  it('block on each stream at the same time (one reader connection per stream and name)', async () => {
    const streams = [0, 1, 2].map((i) => `${prefix}:p:{${i}}`);
    for (const stream of streams) await storage.ensureGroup(stream, 'g', '$');
    const started = Date.now();
    const reads = streams.map((stream) => storage.readGroup(stream, 'g', 'same', { count: 1, blockMs: 500 }));
    const last = reads[2]?.then((entries) => ({ entries, ms: Date.now() - started }));
    await sleep(50);
    await storage.add(streams[2] ?? '', { type: 't' });
    const { entries, ms } = (await last) ?? { entries: [], ms: Number.NaN };
    expect(entries).toHaveLength(1);
    // On one shared connection the third read would start only after the first two timed out (1 s).
    expect(ms).toBeLessThan(450);
    expect((await Promise.all(reads)).map((r) => r.length)).toEqual([0, 0, 1]);
  });
});
