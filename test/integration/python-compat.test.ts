import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Message,
  RedisRetryScheduler,
  RedisStreamStorage,
  Router,
  type RuntimeEvent,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { eventually, testClient, testLogger } from './runtime-support.js';

// What a user of the Python design (codex_bot.redis) meets first, on the shared Redis (unique keys):
// entries written the way redis-py writes them, entries published before the first start, and a
// flat payload that stays the same through the durable retry scheduler (issue 13, points 1, 4, 7).

const prefix = uniquePrefix();
const redis = testClient(sharedRedisUrl());

afterEach(() => expectNoLeaks());
afterAll(async () => {
  redis.disconnect();
  await cleanupKeys(prefix);
});

describe('entries as the Python design writes them', { timeout: 15_000 }, () => {
  it('handles flat entries written like redis-py (`XADD s * type booking.confirmed user_id 42`)', async () => {
    const stream = `${prefix}:flat`;
    const seen: Message[] = [];
    const router = new Router().on('booking.confirmed', (message) => void seen.push(message));
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        logger: testLogger(),
        consumers: [{ stream, group: 'bot', consumer: 'py', blockMs: 100 }],
      }),
    );
    try {
      await runtime.start();
      // redis-py: r.xadd('s', {'type': 'booking.confirmed', 'user_id': 42}) sends every value as a string.
      const id = await redis.xadd(stream, '*', 'type', 'booking.confirmed', 'user_id', '42');
      await eventually(() => seen.length === 1, 5000, 'the flat entry to be handled');
      expect(seen[0]).toMatchObject({ id, type: 'booking.confirmed', stream });
      expect((seen[0]!.payload as { user_id: string }).user_id).toBe('42');
      expect(seen[0]!.payload).toEqual({ user_id: '42' });
      expect(seen[0]!.fields).toEqual({ type: 'booking.confirmed', user_id: '42' });
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
    }
  });

  it('handles entries published before the first start (a new group starts at 0), and heals NOGROUP at the last id seen', async () => {
    const stream = `${prefix}:before-start`;
    const before = [
      await redis.xadd(stream, '*', 'type', 'booking.confirmed', 'user_id', '1'),
      await redis.xadd(stream, '*', 'type', 'booking.confirmed', 'user_id', '2'),
    ];
    const handled: string[] = [];
    const router = new Router().on('booking.confirmed', (message) => void handled.push(message.id));
    const events: RuntimeEvent[] = [];
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        logger: testLogger(),
        // No startId: the default.
        consumers: [{ stream, group: 'bot', consumer: 'c1', blockMs: 100 }],
        supervisor: { backoff: { minMs: 20, maxMs: 50 } },
      }),
    );
    runtime.subscribe((event) => events.push(event));
    try {
      await runtime.start();
      await eventually(() => handled.length === 2, 5000, 'the two entries published before start');
      expect(handled).toEqual(before);

      // The group is destroyed: it is recreated at the last id seen, not at the default 0.
      await redis.xgroup('DESTROY', stream, 'bot');
      await eventually(
        () => events.some((e) => e.type === 'consumer.restarted'),
        5000,
        'the consumer to be restarted',
      );
      const after = await redis.xadd(stream, '*', 'type', 'booking.confirmed', 'user_id', '3');
      await eventually(() => handled.length >= 3, 5000, 'the entry published after the fault');
      await new Promise((resolve) => setTimeout(resolve, 200)); // a replay would arrive meanwhile
      expect(handled).toEqual([...before, after]);
      const created = events.filter((e) => e.type === 'consumer.group-created');
      expect(created.map((e) => (e as { startId: string }).startId)).toEqual(['0', before[1]]);
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
    }
  });

  it('keeps a flat payload the same through the Redis retry scheduler: x-retry-attempt is a header', async () => {
    const stream = `${prefix}:retried`;
    const deliveries: Message[] = [];
    const router = new Router().on('booking.confirmed', (message) => {
      deliveries.push(message);
      if (deliveries.length === 1) throw new Error('downstream unavailable');
    });
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        retryScheduler: RedisRetryScheduler.fromUrl(sharedRedisUrl(), { pollIntervalMs: 50 }),
        router,
        logger: testLogger(),
        consumers: [
          {
            stream,
            group: 'bot',
            consumer: 'c1',
            blockMs: 100,
            retry: { attempts: 1, scheduled: { attempts: 3, backoff: { initialMs: 20, maxMs: 20 } } },
          },
        ],
      }),
    );
    try {
      await runtime.start();
      await redis.xadd(stream, '*', 'type', 'booking.confirmed', 'user_id', '42', 'x-trace', 't1');
      await eventually(() => deliveries.length === 2, 5000, 'the durable re-delivery');
      const [first, second] = deliveries as [Message, Message];
      expect(second.id).not.toBe(first.id);
      expect(second.fields['x-retry-attempt']).toBe('1');
      expect(first.payload).toEqual({ user_id: '42', 'x-trace': 't1' });
      expect(second.payload).toEqual(first.payload);
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
      await redis.unlink(`{${stream}}:retry`);
    }
  });
});
