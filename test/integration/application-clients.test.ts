import { Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisRetryScheduler, RedisStreamStorage, Router } from '../../src/index.js';
import { expectNoLeaks, fileScoped, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// Issue 13, point 5: the application's own ioredis client is taken as it is. ioredis 6 speaks RESP3
// by default; these clients are created with no option at all, as an application would.

const prefix = uniquePrefix();
const silent = pino({ level: 'silent' });
const clients: Array<{ disconnect(): void }> = [];

/** A client of the file: closed in afterAll, so the leak guard checks it when the file ends. */
function own<T extends { disconnect(): void }>(client: T): T {
  clients.push(client);
  fileScoped(client);
  return client;
}

afterEach(() => expectNoLeaks());
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await cleanupKeys(prefix);
});

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('clients the application created, as they are', () => {
  it('new RedisStreamStorage(new Redis()) and new RedisRetryScheduler(new Redis()) run a runtime on RESP3', async () => {
    const stream = `${prefix}:{resp3}`;
    const client = own(new Redis(sharedRedisUrl()));
    const storage = new RedisStreamStorage(client);
    const retryScheduler = new RedisRetryScheduler(own(new Redis(sharedRedisUrl())));
    const seen: Array<{ attempt: string | undefined; payload: unknown }> = [];
    const router = new Router();
    router.on('booking.confirmed', (message) => {
      seen.push({ attempt: message.fields['x-retry-attempt'], payload: message.payload });
      if (seen.length === 1) throw new Error('first delivery fails');
    });
    await storage.add(stream, { type: 'booking.confirmed', payload: '{"user_id":42}' });
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        retryScheduler,
        logger: silent,
        consumers: [
          {
            stream,
            group: 'bot',
            startId: '0',
            blockMs: 100,
            retry: { attempts: 1, scheduled: { attempts: 2, backoff: { initialMs: 50, maxMs: 50 } } },
          },
        ],
      }),
    );
    await runtime.start();
    try {
      await waitFor('the scheduled re-delivery', () => seen[1], 5000);
      expect(seen).toEqual([
        { attempt: undefined, payload: { user_id: 42 } },
        { attempt: '1', payload: { user_id: 42 } },
      ]);
      await waitFor(
        'both deliveries acked',
        async () => ((await storage.pending(stream, 'bot', { count: 10 })).length === 0 ? true : undefined),
        2000,
      );
    } finally {
      await runtime.stop();
      await retryScheduler.close();
      await storage.close();
    }
    expect(await storage.length(stream).catch((error: unknown) => error)).toBeInstanceOf(Error); // closed
    expect(await client.xlen(stream)).toBe(2); // the original and its re-delivery
    expect(client.status).toBe('ready'); // the application's client stays open
  });

  it('the retry promoter on RESP3 reports the next due time, and none when nothing waits', async () => {
    const stream = `${prefix}:{promote}`;
    const scheduler = new RedisRetryScheduler(own(new Redis(sharedRedisUrl())));
    expect(await scheduler.promote(stream)).toEqual({ promoted: 0, foreign: 0, nextDueAt: null });
    await scheduler.schedule(stream, { id: '1-0', fields: { type: 't' }, deliveries: 1 }, 60_000);
    const { nextDueAt } = await scheduler.promote(stream);
    expect(nextDueAt).toBeGreaterThan(Date.now() + 50_000);
    await scheduler.close();
  });

  it('an ioredis 5 client works for the storage and the retry scheduler', async () => {
    const stream = `${prefix}:{v5}`;
    const storage = new RedisStreamStorage(own(new Redis5(sharedRedisUrl())));
    const scheduler = new RedisRetryScheduler(own(new Redis5(sharedRedisUrl())));
    await storage.ensureGroup(stream, 'g', '0');
    await scheduler.schedule(stream, { id: '1-0', fields: { type: 't', n: '1' }, deliveries: 1 }, 0);
    expect(await scheduler.promote(stream)).toEqual({ promoted: 1, foreign: 0, nextDueAt: null });
    const [entry] = await storage.readGroup(stream, 'g', 'c', { count: 10, blockMs: 100 });
    expect(entry?.fields).toEqual({ type: 't', n: '1' });
    await scheduler.close();
    await storage.close();
  });
});
