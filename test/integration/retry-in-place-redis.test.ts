import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Message,
  RedisRetryScheduler,
  RedisStreamStorage,
  Router,
  retryKey,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { expectExited, spawnTsx, type TsxChild } from '../helpers/tsx-child.js';

// Ordered retries in place on the shared Redis (unique keys per run): a failing message of an
// ordering key holds its key through its scheduled retries, and across a SIGKILL of its process.

const prefix = uniquePrefix();
const redis = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });
const retryKeys: string[] = [];
let running: TsxChild | null = null;

afterEach(async () => {
  expectExited(running, 'The ordered consumer process');
  running = null;
  await expectNoLeaks();
});
afterAll(async () => {
  if (retryKeys.length > 0) await redis.unlink(...retryKeys);
  redis.disconnect();
  await cleanupKeys(prefix);
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const labelOf = (m: Message) => {
  const { key, n } = m.payload as { key: string; n: number };
  return `${key}${n}`;
};

describe('ordered retries in place (Redis)', () => {
  it('holds the key through the scheduled backoff until success or dead letter; other keys run', async () => {
    const stream = `${prefix}:ordered`;
    retryKeys.push(retryKey(stream));
    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    const scheduler = RedisRetryScheduler.fromUrl(sharedRedisUrl(), { pollIntervalMs: 50 });
    const runs: Array<{ label: string; retry: string; at: number }> = [];
    const router = new Router();
    router.on('t', (m) => {
      const retry = m.fields['x-retry-attempt'] ?? '-';
      runs.push({ label: labelOf(m), retry, at: Date.now() });
      if (labelOf(m) === 'c1' || (labelOf(m) === 'a1' && retry !== '2')) throw new Error('down');
    });
    const ids: Record<string, string> = {};
    for (const [key, n] of [
      ['a', 1],
      ['a', 2],
      ['c', 1],
      ['b', 1],
      ['a', 3],
      ['c', 2],
    ] as const)
      ids[`${key}${n}`] = await storage.add(stream, { type: 't', payload: JSON.stringify({ key, n }) });
    const runtime = trackRuntime(
      createRuntime({
        storage,
        retryScheduler: scheduler,
        router,
        logger: pino({ level: 'silent' }),
        consumers: [
          {
            stream,
            group: 'g',
            startId: '0',
            blockMs: 200,
            orderingKey: (m) => (m.payload as { key?: string }).key,
            // Scheduled retries wait 150 to 300 ms each (equal jitter).
            retry: { attempts: 1, scheduled: { attempts: 2, backoff: { initialMs: 300, maxMs: 300 } } },
          },
        ],
      }),
    );
    try {
      await runtime.start();
      await waitFor('every message', () => (runs.length >= 10 ? true : undefined), 10_000);
      const of = (key: string) =>
        runs.filter((r) => r.label.startsWith(key)).map((r) => `${r.label}:${r.retry}`);
      expect(of('a')).toEqual(['a1:-', 'a1:1', 'a1:2', 'a2:-', 'a3:-']);
      expect(of('c')).toEqual(['c1:-', 'c1:1', 'c1:2', 'c2:-']);
      expect(of('b')).toEqual(['b1:-']);
      const at = (label: string, retry: string) =>
        runs.find((r) => r.label === label && r.retry === retry)!.at;
      // b1 did not wait for a's retries; a1's retries waited the scheduled backoff (at least its half).
      expect(at('b1', '-')).toBeLessThan(at('a1', '1'));
      expect(at('a1', '1') - at('a1', '-')).toBeGreaterThanOrEqual(140);
      expect(at('a1', '2') - at('a1', '1')).toBeGreaterThanOrEqual(140);
      const dead = await waitFor(
        'the dead letter',
        async () => {
          const entries = await storage.range(`${stream}:dead`);
          return entries.length > 0 ? entries : undefined;
        },
        3000,
      );
      expect(dead.map((d) => d.fields)).toEqual([
        expect.objectContaining({
          'x-source-id': ids.c1,
          'x-retry-attempt': '2',
          'x-dead-reason': 'handler-error',
          'x-deliveries': '1',
        }),
      ]);
      await waitFor(
        'nothing pending',
        async () => ((await storage.pending(stream, 'g', { count: 10 })).length === 0 ? true : undefined),
        3000,
      );
      // Nothing went through the scheduler's sorted set, nothing was re-added to the stream.
      expect(await redis.exists(retryKey(stream))).toBe(0);
      expect(await redis.xlen(stream)).toBe(6);
      expect(runtime.snapshot().consumers[0]).toMatchObject({ processed: 5, scheduled: 4, keysWaiting: 0 });
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
    }
  });

  it('a SIGKILL while the failing message waits: the next process runs it first, then its key', async () => {
    const stream = `${prefix}:crash`;
    retryKeys.push(retryKey(stream));
    const producer = RedisStreamStorage.fromUrl(sharedRedisUrl());
    const ids: string[] = [];
    for (const [key, n] of [
      ['a', 1],
      ['a', 2],
      ['b', 1],
      ['a', 3],
    ] as const)
      ids.push(await producer.add(stream, { type: 't', payload: JSON.stringify({ key, n }) }));
    await producer.close();
    const script = fileURLToPath(new URL('./retry-in-place-child.ts', import.meta.url));
    const env = { REDIS_URL: sharedRedisUrl(), STREAM: stream, SCHEDULED_MS: '60000' };
    const first = spawnTsx(script, { ...env, FAIL: 'a1' });
    running = first;
    try {
      await first.waitForLine((l) => l.msg === 'scheduled', 20_000);
      await first.waitForLine((l) => l.msg === 'ran' && l.label === 'b1', 5000);
      // Time for a2 and a3 to run, were a1's key not held.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await first.kill();
    }
    expect(
      first.lines
        .filter((l) => l.msg === 'ran')
        .map((l) => l.label)
        .sort(),
    ).toEqual(['a1', 'b1']);
    expect(first.lines.filter((l) => l.msg === 'scheduled')).toEqual([
      expect.objectContaining({ messageId: ids[0], inPlace: true }),
    ]);
    const pending = await redis.xpending(stream, 'g', '-', '+', 10);
    expect((pending as Array<[string, string]>).map(([id, consumer]) => [id, consumer])).toEqual([
      [ids[0], 'ordered-consumer'],
      [ids[1], 'ordered-consumer'],
      [ids[3], 'ordered-consumer'],
    ]);
    const second = spawnTsx(script, { ...env, FAIL: '' });
    running = second;
    try {
      const ran = await second.waitForLines((l) => l.msg === 'ran', 3, 20_000);
      expect(ran.map((l) => [l.label, l.retryAttempt, l.deliveries])).toEqual([
        ['a1', null, 2],
        ['a2', null, 2],
        ['a3', null, 2],
      ]);
      await waitFor(
        'nothing pending',
        async () => ((await redis.xpending(stream, 'g', '-', '+', 10)).length === 0 ? true : undefined),
        5000,
      );
      expect(await second.terminate(5000)).toEqual({ code: 0, signal: null });
    } finally {
      await second.kill();
    }
  });
});
