import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import { expectExited, spawnTsx, type TsxChild } from '../../test/helpers/tsx-child.js';

// Runs examples/embedded/main.ts as its own process (through tsx) against the shared Redis, feeds it
// events, and checks it handles them and exits cleanly on SIGTERM without leaving anything pending.

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

let running: TsxChild | null = null;
afterEach(() => {
  // Leak guard: the example must have exited by itself.
  const child = running;
  running = null;
  expectExited(child, 'The example process');
});

describe('examples/embedded', { timeout: 15_000 }, () => {
  it('handles events by type and exits 0 on SIGTERM, finishing in-flight work, nothing pending', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:bot_events`;
    const group = 'bot';
    const redis = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });
    const example = spawnTsx(MAIN, {
      REDIS_URL: sharedRedisUrl(),
      STREAM: stream,
      GROUP: group,
      CONSUMER_NAME: 'example-1',
      STOP_TIMEOUT_MS: '5000',
    });
    running = example;
    try {
      await example.waitForLines((line) => line.msg === 'ready', 1, 10_000);

      const ids: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const joined = JSON.stringify({ userId: i, name: `user-${i}` });
        ids.push(String(await redis.xadd(stream, '*', 'type', 'user.joined', 'payload', joined)));
        const paid = JSON.stringify({ orderId: `o-${i}`, amount: 10 * i });
        ids.push(String(await redis.xadd(stream, '*', 'type', 'order.paid', 'payload', paid)));
      }
      const handled = await example.waitForLines(
        (line) => line.msg === 'handled' && ids.includes(String(line.messageId)),
        ids.length,
        5000,
      );
      expect(new Set(handled.map((line) => line.messageId))).toEqual(new Set(ids));

      // A slow job is in flight when SIGTERM arrives: stop() lets it finish, then the process exits 0.
      const slow = String(
        await redis.xadd(stream, '*', 'type', 'report.requested', 'payload', '{"durationMs":400}'),
      );
      await example.waitForLines((line) => line.msg === 'report started' && line.messageId === slow, 1, 5000);
      const signalledAt = Date.now();
      const exit = await example.terminate(5000);
      expect(exit, example.stderr()).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(5000);

      const messages = example.lines.map((line) => line.msg);
      expect(example.lines.filter((line) => line.msg === 'handled' && line.messageId === slow)).toHaveLength(
        1,
      );
      expect(example.lines.filter((line) => line.msg === 'notification sent')).toHaveLength(7);
      // The slow job finished before the runtime reported it had stopped.
      const handledSlow = example.lines.findIndex((l) => l.msg === 'handled' && l.messageId === slow);
      expect(handledSlow).toBeGreaterThan(messages.indexOf('stopping'));
      expect(handledSlow).toBeLessThan(messages.indexOf('stopped'));
      expect(example.lines.find((line) => line.msg === 'stopped')).toMatchObject({ status: 'stopped' });
      expect(example.lines.filter((line) => (line.level ?? 0) >= 50)).toEqual([]);
      expect(example.other).toEqual([]);

      const [pending] = (await redis.xpending(stream, group)) as [number, ...unknown[]];
      expect(Number(pending)).toBe(0);
    } finally {
      await example.kill();
      redis.disconnect();
      await cleanupKeys(prefix);
    }
  });
});
