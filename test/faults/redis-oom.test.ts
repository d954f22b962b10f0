// Redis out of memory (maxmemory with noeviction refuses writes with `-OOM`): a consumer whose
// connections drop meanwhile, or that starts meanwhile, must wait for memory instead of failing.
// Before: every pass through creatingGroup sent XGROUP CREATE (a write) even for an existing group,
// and OOM was not a transient reply, so the consumer exited fatal and the runtime ended `failed`.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type RuntimeEvent } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { eventually, testLogger } from './fault-support.js';

afterEach(() => expectNoLeaks());

const supervisor = { maxRestarts: 2, periodMs: 60_000, backoff: { minMs: 20, maxMs: 100 } };

async function withOomServer(body: (server: RedisServer, admin: Redis) => Promise<void>): Promise<void> {
  const server = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
  const admin = new Redis(server.url, { protocol: 2, maxRetriesPerRequest: 1 });
  try {
    await body(server, admin);
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

/**
 * Fill Redis past its `maxmemory`: 2 MiB of filler keys, then a `maxmemory` of 1 MiB, so every write
 * is refused with OOM however much a killed connection's buffers give back. `free` deletes the
 * fillers and lifts the limit.
 */
async function fillMemory(admin: Redis): Promise<{ free: () => Promise<void> }> {
  const filler = 'x'.repeat(256 * 1024);
  for (let i = 0; i < 8; i++) await admin.set(`filler:${i}`, filler);
  await admin.config('SET', 'maxmemory', String(1024 * 1024));
  await expect(admin.set('probe', 'x')).rejects.toThrow(/OOM/);
  return {
    free: async () => {
      await admin.del(...Array.from({ length: 8 }, (_, i) => `filler:${i}`));
      await admin.config('SET', 'maxmemory', String(64 * 1024 * 1024));
    },
  };
}

function startRuntime(url: string, handled: string[], events: RuntimeEvent[]) {
  const router = new Router();
  router.on('t', (message) => void handled.push(message.fields.n as string));
  const runtime = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(url),
      router,
      logger: testLogger(),
      supervisor,
      consumers: [{ stream: 'orders', group: 'g', blockMs: 200, claim: { minIdleMs: 500, intervalMs: 300 } }],
    }),
  );
  runtime.subscribe((event) => events.push(event));
  return runtime;
}

describe('fault: Redis out of memory', () => {
  it(
    'connections killed while Redis is full: the runtime waits for memory and never fails',
    { timeout: 30_000 },
    () =>
      withOomServer(async (server, admin) => {
        const handled: string[] = [];
        const events: RuntimeEvent[] = [];
        const runtime = startRuntime(server.url, handled, events);
        await runtime.start();
        try {
          await admin.xadd('orders', '*', 'type', 't', 'n', 'before');
          await eventually(() => handled.includes('before'), 5000, 'the first message handled');
          const memory = await fillMemory(admin);
          for (let i = 0; i < 3; i++) {
            await admin.call('CLIENT', 'KILL', 'TYPE', 'normal'); // every connection but this one
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
          expect(runtime.snapshot().status).not.toBe('failed');
          expect(events.filter((e) => e.type === 'runtime.failed')).toEqual([]);
          await memory.free();
          await admin.xadd('orders', '*', 'type', 't', 'n', 'after');
          await eventually(
            () => handled.includes('after'),
            10_000,
            'the message published after memory was freed',
          );
          expect(runtime.snapshot().status).toBe('running');
          expect(events.filter((e) => e.type === 'runtime.failed')).toEqual([]);
        } finally {
          await runtime.stop();
        }
      }),
  );

  it(
    'a start while Redis is full, with the group already there: every message is handled',
    { timeout: 30_000 },
    () =>
      withOomServer(async (server, admin) => {
        await admin.xgroup('CREATE', 'orders', 'g', '0', 'MKSTREAM');
        for (let i = 0; i < 200; i++) await admin.xadd('orders', '*', 'type', 't', 'n', String(i));
        await fillMemory(admin);
        const handled: string[] = [];
        const events: RuntimeEvent[] = [];
        const runtime = startRuntime(server.url, handled, events);
        await runtime.start();
        try {
          await eventually(() => handled.length >= 200, 10_000, '200 messages handled');
          expect(new Set(handled).size).toBe(200);
          await eventually(
            async () => Number((await admin.xpending('orders', 'g'))[0]) === 0,
            5000,
            'all acked',
          );
          expect(runtime.snapshot().status).toBe('running');
          expect(
            events.filter((e) => e.type === 'consumer.restarted' || e.type === 'runtime.failed'),
          ).toEqual([]);
        } finally {
          await runtime.stop();
        }
      }),
  );

  it(
    'a start while Redis is full and the group must be created: it waits for memory, then handles all',
    { timeout: 30_000 },
    () =>
      withOomServer(async (server, admin) => {
        for (let i = 0; i < 50; i++) await admin.xadd('orders', '*', 'type', 't', 'n', String(i));
        const memory = await fillMemory(admin);
        const handled: string[] = [];
        const events: RuntimeEvent[] = [];
        const runtime = startRuntime(server.url, handled, events);
        await runtime.start();
        try {
          // XGROUP CREATE is refused with OOM: the consumer backs off (no exit, no restart).
          await eventually(() => events.some((e) => e.type === 'consumer.backoff'), 5000, 'a backoff');
          await new Promise((resolve) => setTimeout(resolve, 1500));
          expect(events.filter((e) => e.type === 'consumer.exited' || e.type === 'runtime.failed')).toEqual(
            [],
          );
          expect(handled).toEqual([]);
          await memory.free();
          await eventually(() => handled.length >= 50, 10_000, '50 messages handled');
          expect(runtime.snapshot().status).toBe('running');
        } finally {
          await runtime.stop();
        }
      }),
  );
});
