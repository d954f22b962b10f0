import { afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type HandlerContext,
  type Message,
  publish,
  RedisStreamStorage,
  Router,
  type StreamStorage,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { eventually, pendingCount, testClient, testLogger } from './runtime-support.js';

// A message that a slow consumer and the consumer that claimed it both finish (issue 24, item 1):
// with ctx.publish its output is written once (the second XACK acks nothing, so its XADD does not
// run); with publish() from the handler, twice. Consumer "slow" keeps its message past the claiming
// consumer's minIdleMs without touching it (its own minIdleMs is a minute: a GC pause or a stalled
// process looks the same), "fast" claims it, handles it and acks it; then "slow" finishes too.

afterEach(() => expectNoLeaks());

type Write = (storage: StreamStorage, message: Message, ctx: HandlerContext, who: string) => Promise<void>;

const withAck: Write = async (_storage, message, ctx, who) =>
  ctx.publish(`${message.stream}:out`, 'done', { by: who }, { headers: { 'x-source-id': message.id } });
const atOnce: Write = async (storage, message, _ctx, who) => {
  await publish(
    storage,
    `${message.stream}:out`,
    'done',
    { by: who },
    { headers: { 'x-source-id': message.id } },
  );
};

async function finishTwice(write: Write): Promise<{ outputs: string[]; deliveries: Record<string, number> }> {
  const prefix = uniquePrefix();
  const stream = `${prefix}:in`;
  const group = 'workers';
  const redis = testClient(sharedRedisUrl());
  const deliveries: Record<string, number> = {};
  const slowStorage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  const fastStorage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  let slowStarted = false;

  const slow = trackRuntime(
    createRuntime({
      storage: slowStorage,
      logger: testLogger(),
      router: new Router().on('job', async (message, ctx) => {
        slowStarted = true;
        deliveries.slow = message.deliveries;
        // Finish only after the claiming consumer acked the message.
        await eventually(async () => (await pendingCount(redis, stream, group)) === 0, 10_000, 'fast to ack');
        await write(slowStorage, message, ctx, 'slow');
      }),
      consumers: [{ stream, group, consumer: 'slow', blockMs: 100, claim: { minIdleMs: 60_000 } }],
    }),
  );
  const fast = trackRuntime(
    createRuntime({
      storage: fastStorage,
      logger: testLogger(),
      router: new Router().on('job', async (message, ctx) => {
        deliveries.fast = message.deliveries;
        await write(fastStorage, message, ctx, 'fast');
      }),
      consumers: [
        { stream, group, consumer: 'fast', blockMs: 100, claim: { minIdleMs: 300, intervalMs: 100 } },
      ],
    }),
  );
  try {
    await slow.start();
    await redis.xadd(stream, '*', 'type', 'job', 'payload', '{}');
    await eventually(() => slowStarted, 5000, 'slow to start the message');
    await fast.start();
    await eventually(() => slow.snapshot().consumers[0]?.processed === 1, 10_000, 'slow to finish');
    await Promise.all([slow.stop({ timeoutMs: 2000 }), fast.stop({ timeoutMs: 2000 })]);
    const outputs = (await redis.xrange(`${stream}:out`, '-', '+')).map(([, fields]) => fields[3] ?? '');
    expect(await pendingCount(redis, stream, group)).toBe(0);
    return { outputs, deliveries };
  } finally {
    await Promise.all([slow.stop({ timeoutMs: 100 }), fast.stop({ timeoutMs: 100 })]);
    redis.disconnect();
    await cleanupKeys(prefix);
  }
}

describe('a message finished by a slow consumer and by the one that claimed it (shared Redis)', {
  timeout: 30_000,
}, () => {
  it('ctx.publish: the output is written once, by the consumer whose XACK acked it', async () => {
    const { outputs, deliveries } = await finishTwice(withAck);
    expect(deliveries).toEqual({ slow: 1, fast: 2 });
    expect(outputs).toEqual(['{"by":"fast"}']);
  });

  it('publish() from the handler (at least once): the output is written twice', async () => {
    const { outputs, deliveries } = await finishTwice(atOnce);
    expect(deliveries).toEqual({ slow: 1, fast: 2 });
    expect(outputs.sort()).toEqual(['{"by":"fast"}', '{"by":"slow"}']);
  });
});

describe('RedisStreamStorage.ackAndAdd (shared Redis)', () => {
  it('a target key that is not a stream fails the call before the XACK: nothing is acked or written', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:in`;
    const redis = testClient(sharedRedisUrl());
    const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
    try {
      await storage.ensureGroup(stream, 'g', '0');
      const id = await storage.add(stream, { type: 't' });
      await storage.readGroup(stream, 'g', 'c', { count: 1 });
      await redis.set(`${prefix}:string`, 'not a stream');
      const call = storage.ackAndAdd(stream, 'g', id, [
        { stream: `${prefix}:out`, fields: { type: 'first' } },
        { stream: `${prefix}:string`, fields: { type: 'second' } },
      ]);
      await expect(call).rejects.toThrow(/WRONGTYPE .*:string holds a string, not a stream/);
      expect(await pendingCount(redis, stream, 'g')).toBe(1);
      expect(await storage.length(`${prefix}:out`)).toBe(0);
    } finally {
      await storage.close();
      redis.disconnect();
      await cleanupKeys(prefix);
    }
  });
});
