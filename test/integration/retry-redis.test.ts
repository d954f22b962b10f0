import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  RedisRetryScheduler,
  RedisStreamStorage,
  Router,
  type RuntimeEvent,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// Retries, ownership and durable retries on the shared Redis (unique keys per run).

const prefix = uniquePrefix();
const silent = pino({ level: 'silent' });
const extraKeys: string[] = [];
const redis = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });

afterEach(() => expectNoLeaks());
afterAll(async () => {
  if (extraKeys.length > 0) await redis.unlink(...extraKeys);
  redis.disconnect();
  await cleanupKeys(prefix);
});

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A RedisStreamStorage that records every id it acks. */
class CountingStorage extends RedisStreamStorage {
  readonly acked: string[] = [];
  override ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.acked.push(...ids);
    return super.ack(stream, group, ids);
  }
}

describe('in-process retries on Redis', () => {
  it('a handler failing twice then succeeding: three calls, exactly one ack', async () => {
    const stream = `${prefix}:twice`;
    const client = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });
    const storage = new CountingStorage(client);
    const attempts: number[] = [];
    const router = new Router();
    router.on('t', (_m, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error(`fail ${ctx.attempt}`);
    });
    const events: RuntimeEvent[] = [];
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        logger: silent,
        consumers: [
          {
            stream,
            group: 'g',
            startId: '0',
            blockMs: 200,
            retry: { attempts: 3, backoff: { initialMs: 20, maxMs: 100 } },
          },
        ],
      }),
    );
    runtime.subscribe((event) => events.push(event));
    try {
      await runtime.start();
      const id = await storage.add(stream, { type: 't', payload: '{}' });
      await waitFor('the ack', () => (storage.acked.length > 0 ? true : undefined), 3000);
      await waitFor(
        'an empty PEL',
        async () => ((await storage.pending(stream, 'g', { count: 10 })).length === 0 ? true : undefined),
        1000,
      );
      await new Promise((resolve) => setTimeout(resolve, 100)); // a second ack would come by now
      expect(attempts).toEqual([1, 2, 3]);
      expect(storage.acked).toEqual([id]);
      expect(
        events.filter((e) => e.type === 'message.retrying').map((e) => (e as { attempt: number }).attempt),
      ).toEqual([1, 2]);
      expect(await storage.length(`${stream}:dead`)).toBe(0);
      expect(runtime.snapshot().consumers[0]).toMatchObject({ processed: 1, failed: 2, retried: 2 });
    } finally {
      await runtime.stop();
      client.disconnect();
    }
  });
});

describe('ownership of slow messages', () => {
  it('a 3 s handler with claim.minIdleMs 500 runs exactly once while another consumer claims aggressively', async () => {
    const stream = `${prefix}:slow`;
    let runs = 0;
    const router = new Router();
    router.on('slow', () => {
      runs++;
      return new Promise((resolve) => setTimeout(resolve, 3000));
    });
    const make = (consumer: string) =>
      trackRuntime(
        createRuntime({
          storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
          router,
          logger: silent,
          consumers: [
            {
              stream,
              group: 'g',
              consumer,
              startId: '0',
              blockMs: 200,
              claim: { minIdleMs: 500, intervalMs: 100 },
            },
          ],
        }),
      );
    const first = make('first');
    await first.start();
    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    try {
      const id = await storage.add(stream, { type: 'slow', payload: '{}' });
      await waitFor('the handler', () => (runs === 1 ? true : undefined), 2000);
      const second = make('second');
      await second.start();
      // Besides the second runtime's XAUTOCLAIM every 100 ms, a thief tries every 25 ms.
      const stolen: string[] = [];
      const started = Date.now();
      while (Date.now() - started < 3200) {
        const page = await storage.autoClaim(stream, 'g', 'thief', { minIdleMs: 500, count: 10 });
        stolen.push(...page.entries.map((e) => e.id));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await waitFor(
        'the ack',
        async () => ((await storage.pending(stream, 'g', { count: 10 })).length === 0 ? true : undefined),
        2000,
      );
      expect(stolen).toEqual([]);
      expect(runs).toBe(1);
      expect(first.snapshot().consumers[0]!.processed + second.snapshot().consumers[0]!.processed).toBe(1);
      expect(id).toMatch(/^\d+-\d+$/);
      await second.stop();
    } finally {
      await first.stop();
      await storage.close();
    }
  }, 15_000);
});

describe('RedisRetryScheduler', () => {
  it('re-delivers after its delay across a runtime restart', async () => {
    const stream = `${prefix}:durable`; // no hash tag: the set is {<stream>}:retry
    const retryKey = `{${stream}}:retry`;
    extraKeys.push(retryKey);
    const consumer = {
      stream,
      group: 'g',
      startId: '0',
      blockMs: 200,
      retry: { attempts: 1, scheduled: { attempts: 3, backoff: { initialMs: 1200, maxMs: 1200 } } },
    };
    // First process: the handler fails; the message is scheduled (900 ms with random 0.5) and acked.
    const failing = new Router();
    failing.on('t', () => {
      throw new Error('downstream unavailable');
    });
    const events: RuntimeEvent[] = [];
    const first = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router: failing,
        logger: silent,
        random: () => 0.5,
        retryScheduler: RedisRetryScheduler.fromUrl(sharedRedisUrl()),
        consumers: [consumer],
      }),
    );
    first.subscribe((event) => events.push(event));
    await first.start();
    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    try {
      const before = Date.now();
      const sourceId = await storage.add(stream, { type: 't', payload: '{"n":1}', 'x-trace': 't1' });
      const scheduled = await waitFor(
        'message.scheduled',
        () => events.find((e) => e.type === 'message.scheduled'),
        3000,
      );
      await first.stop();
      expect(scheduled).toMatchObject({ messageId: sourceId, retryAttempt: 1, delayMs: 900 });
      const members = await redis.zrange(retryKey, '0', '-1', 'WITHSCORES');
      expect(members).toHaveLength(2);
      expect(JSON.parse(members[0]!)).toEqual({
        id: sourceId,
        f: ['type', 't', 'payload', '{"n":1}', 'x-trace', 't1', 'x-retry-attempt', '1'],
      });
      const dueAt = Number(members[1]);
      expect(dueAt).toBeGreaterThanOrEqual(before + 900);
      expect(dueAt).toBeLessThanOrEqual(scheduled.at + 900);
      expect(await storage.pending(stream, 'g', { count: 10 })).toEqual([]);

      // Second process: a new runtime and scheduler; the promoter re-adds it when due.
      const seen: Array<{ at: number; fields: Record<string, string>; id: string }> = [];
      const working = new Router();
      working.on('t', (m) => void seen.push({ at: Date.now(), fields: { ...m.fields }, id: m.id }));
      const second = trackRuntime(
        createRuntime({
          storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
          router: working,
          logger: silent,
          retryScheduler: RedisRetryScheduler.fromUrl(sharedRedisUrl(), { pollIntervalMs: 5000 }),
          consumers: [consumer],
        }),
      );
      await second.start();
      try {
        await waitFor('the re-delivery', () => seen[0], 3000);
        expect(seen).toHaveLength(1);
        expect(seen[0]!.at).toBeGreaterThanOrEqual(dueAt);
        expect(seen[0]!.at).toBeLessThan(dueAt + 500); // woke at the due time, not at pollIntervalMs
        expect(seen[0]!.id).not.toBe(sourceId);
        expect(seen[0]!.fields).toEqual({
          type: 't',
          payload: '{"n":1}',
          'x-trace': 't1',
          'x-retry-attempt': '1',
        });
        expect(await redis.zcard(retryKey)).toBe(0);
        await waitFor(
          'the ack',
          async () => ((await storage.pending(stream, 'g', { count: 10 })).length === 0 ? true : undefined),
          1000,
        );
        expect(await storage.length(`${stream}:dead`)).toBe(0);
      } finally {
        await second.stop();
      }
    } finally {
      await storage.close();
    }
  });

  it('promotes each due message exactly once with several promoters at the same time', async () => {
    const stream = `${prefix}:{race}`;
    const schedulers = Array.from({ length: 4 }, () => new RedisRetryScheduler(redis, { batch: 7 }));
    expect(schedulers[0]!.keyOf(stream)).toBe(`${stream}:retry`);
    for (let i = 0; i < 100; i++) {
      await schedulers[0]!.schedule(
        stream,
        { id: `1-${i}`, fields: { type: 't', n: String(i) }, deliveries: 1 },
        0,
      );
    }
    await schedulers[0]!.schedule(stream, { id: '2-0', fields: { type: 'later' }, deliveries: 1 }, 60_000);
    await redis.zadd(`${stream}:retry`, 0, 'not json');
    let promoted = 0;
    let foreign = 0;
    await Promise.all(
      schedulers.map(async (scheduler) => {
        for (;;) {
          const result = await scheduler.promote(stream);
          promoted += result.promoted;
          foreign = Math.max(foreign, result.foreign);
          if (result.promoted === 0) return;
        }
      }),
    );
    expect(promoted).toBe(100);
    expect(foreign).toBe(1);
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries.map(([, fields]) => Number(fields[3])).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    // Left: the one not yet due and the foreign member.
    expect(await redis.zrange(`${stream}:retry`, '0', '-1')).toEqual([
      'not json',
      JSON.stringify({ id: '2-0', f: ['type', 'later'] }),
    ]);
    const result = await schedulers[0]!.promote(stream);
    expect(result.nextDueAt).toBeGreaterThan(Date.now() + 50_000);
    await Promise.all(schedulers.map((s) => s.close()));
    expect(redis.status).toBe('ready'); // a client passed in stays open
  });

  it('scheduling the same entry twice re-delivers it once', async () => {
    const stream = `${prefix}:{dup}`;
    const scheduler = new RedisRetryScheduler(redis);
    const entry = { id: '5-0', fields: { type: 't', 'x-retry-attempt': '1' }, deliveries: 1 };
    await scheduler.schedule(stream, entry, 0);
    await scheduler.schedule(stream, entry, 0);
    expect(await scheduler.promote(stream)).toEqual({ promoted: 1, foreign: 0, nextDueAt: null });
    expect(await redis.xlen(stream)).toBe(1);
    await scheduler.close();
  });

  it('an entry of 5,000 fields is re-delivered whole and the retries behind it are not held up', async () => {
    const stream = `${prefix}:{wide}`;
    const scheduler = new RedisRetryScheduler(redis, { pollIntervalMs: 100 });
    const wide: Record<string, string> = { type: 't', n: 'wide' };
    for (let i = 0; i < 5000; i++) wide[`f${i}`] = `v${i}`;
    // Lua's unpack gives up near 8,000 values: the old script failed on this entry at every poll.
    await scheduler.schedule(stream, { id: '1-0', fields: wide, deliveries: 1 }, 0);
    for (let i = 0; i < 5; i++) {
      await scheduler.schedule(
        stream,
        { id: `2-${i}`, fields: { type: 't', n: String(i) }, deliveries: 1 },
        20,
      );
    }
    const seen = new Map<string, Record<string, string>>();
    const router = new Router();
    router.on('t', (m) => void seen.set(m.fields.n as string, { ...m.fields }));
    const runtime = trackRuntime(
      createRuntime({
        storage: new RedisStreamStorage(redis),
        router,
        logger: silent,
        retryScheduler: scheduler,
        consumers: [{ stream, group: 'g', startId: '0', blockMs: 100 }],
      }),
    );
    await runtime.start();
    try {
      await waitFor('six re-deliveries', () => (seen.size === 6 ? true : undefined), 5000);
      expect(seen.get('wide')).toEqual(wide);
      expect([...seen.keys()].sort()).toEqual(['0', '1', '2', '3', '4', 'wide']);
      expect(await redis.zcard(`${stream}:retry`)).toBe(0);
      expect(await redis.xlen(stream)).toBe(6);
    } finally {
      await runtime.stop();
    }
  });

  it('wide entries are promoted exactly once with several promoters at the same time', async () => {
    const stream = `${prefix}:{wide-race}`;
    const schedulers = Array.from({ length: 4 }, () => new RedisRetryScheduler(redis, { batch: 2 }));
    for (let w = 0; w < 3; w++) {
      const fields: Record<string, string> = { type: 't', n: String(w) };
      for (let i = 0; i < 4500; i++) fields[`f${i}`] = String(i);
      await schedulers[0]!.schedule(stream, { id: `1-${w}`, fields, deliveries: 1 }, 0);
      await schedulers[0]!.schedule(
        stream,
        { id: `2-${w}`, fields: { type: 't', n: `n${w}` }, deliveries: 1 },
        0,
      );
    }
    try {
      // Each promoter runs until the set is empty: a promotion whose WATCH kept losing to the others
      // is left for the next call, never done twice.
      let promoted = 0;
      await Promise.all(
        schedulers.map(async (scheduler) => {
          for (let i = 0; i < 50 && (await redis.zcard(`${stream}:retry`)) > 0; i++) {
            // Awaited first: `promoted += await …` would read the sum before the await and lose updates.
            const { promoted: now } = await scheduler.promote(stream);
            promoted += now;
          }
        }),
      );
      expect(promoted).toBe(6);
      const entries = await redis.xrange(stream, '-', '+');
      expect(entries.map(([, fields]) => fields[3]).sort()).toEqual(['0', '1', '2', 'n0', 'n1', 'n2']);
      expect(entries.filter(([, fields]) => fields.length === 2 * 4502)).toHaveLength(3);
      expect(await redis.zcard(`${stream}:retry`)).toBe(0);
    } finally {
      await Promise.all(schedulers.map((s) => s.close()));
    }
  });

  it('an entry Redis refuses to re-add goes to the dead-letter stream with the reason, logged at error', async () => {
    const stream = `${prefix}:{refused}`;
    // A stream whose last id is the largest there is: XADD … * fails with "exhausted the last possible ID".
    await redis.xadd(stream, '18446744073709551615-18446744073709551615', 'type', 'last');
    const errors: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const logger = {
      warn: () => undefined,
      debug: () => undefined,
      error: (obj: Record<string, unknown>, msg: string) => void errors.push({ obj, msg }),
    } as unknown as import('pino').Logger;
    const scheduler = new RedisRetryScheduler(redis, { logger });
    const wide: Record<string, string> = { type: 't', n: 'wide' };
    for (let i = 0; i < 5000; i++) wide[`f${i}`] = `v${i}`;
    await scheduler.schedule(stream, { id: '1-0', fields: wide, deliveries: 1 }, 0);
    await scheduler.schedule(stream, { id: '2-0', fields: { type: 't', n: 'narrow' }, deliveries: 1 }, 0);
    await redis.zadd(`${stream}:retry`, 0, 'not json');
    const result = await scheduler.promote(stream);
    expect(result).toMatchObject({ promoted: 0, foreign: 1, deadLettered: 2 });
    expect(await redis.zrange(`${stream}:retry`, '0', '-1')).toEqual(['not json']);
    const storage = new RedisStreamStorage(redis);
    const dead = await storage.range(`${stream}:dead`, {});
    expect(dead).toHaveLength(2);
    const byN = new Map(dead.map((entry) => [entry.fields.n, entry.fields]));
    for (const [n, id, fields] of [
      ['wide', '1-0', wide],
      ['narrow', '2-0', { type: 't', n: 'narrow' }],
    ] as const) {
      const letter = byN.get(n)!;
      expect(letter).toMatchObject({
        ...fields,
        'x-dead-reason': 'handler-error',
        'x-source-stream': stream,
        'x-source-id': id,
      });
      expect(letter['x-dead-error']).toMatch(/could not be re-added .*exhausted the last possible ID/);
    }
    expect(errors).toHaveLength(2);
    expect(errors[0]!.msg).toMatch(/moved to the dead-letter stream/);
    await scheduler.close();
  });
});
