import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../../test/helpers/redis.js';
import { expectExited, spawnTsx, type TsxChild } from '../../test/helpers/tsx-child.js';
import { type FakeBotApi, startFakeBotApi } from './fake-bot-api.js';

// Runs examples/telegram-bot/bot.ts as its own process against the shared Redis and a fake Telegram
// Bot API server on loopback (grammY's `client.apiRoot`): an event published to Redis must become
// exactly one sendMessage, `/status` must be answered from runtime.snapshot(), SIGTERM must exit 0.

const BOT = fileURLToPath(new URL('./bot.ts', import.meta.url));
const TOKEN = '123456:streamvisor-test-token';

let running: TsxChild | null = null;
let fake: FakeBotApi | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
  // Leak guard: the example must have exited by itself.
  const child = running;
  running = null;
  expectExited(child, 'The bot process');
});

describe('examples/telegram-bot', { timeout: 20_000 }, () => {
  it('turns one Redis event into one sendMessage, answers /status, exits 0 on SIGTERM', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:bot_events`;
    const group = 'telegram-bot';
    const api = await startFakeBotApi(TOKEN);
    fake = api;
    const redis = new Redis(sharedRedisUrl(), { protocol: 2, maxRetriesPerRequest: 1 });
    const bot = spawnTsx(BOT, {
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: api.apiRoot,
      REDIS_URL: sharedRedisUrl(),
      STREAM: stream,
      GROUP: group,
      CONSUMER_NAME: 'bot-1',
      STOP_TIMEOUT_MS: '3000',
    });
    running = bot;
    try {
      await bot.waitForLine((line) => line.msg === 'ready', 10_000);
      expect(api.callsOf('getMe')).toHaveLength(1);
      expect(api.callsOf('deleteWebhook')).toHaveLength(1);

      // An event on the stream becomes a Telegram message.
      const payload = JSON.stringify({ chatId: 1001, text: 'Your table for two is booked for 19:30.' });
      const id = String(await redis.xadd(stream, '*', 'type', 'notify.user', 'payload', payload));
      await bot.waitForLine((line) => line.msg === 'notified' && line.messageId === id, 5000);
      expect(api.callsOf('sendMessage').map((call) => call.params)).toEqual([
        { chat_id: 1001, text: 'Your table for two is booked for 19:30.' },
      ]);

      // A /status command is answered from runtime.snapshot() in the same process.
      const updateId = api.queueMessage(2002, '/status');
      const status = await api.waitFor(
        (call) => call.method === 'sendMessage' && call.params.chat_id === 2002,
        5000,
      );
      expect(String(status.params.text).split('\n')).toEqual([
        'streamvisor: running',
        `${stream}/${group}/bot-1: polling, processed 1, failed 0, dead-lettered 0, in flight 0, restarts 0`,
      ]);

      const signalledAt = Date.now();
      const exit = await bot.terminate(6000);
      expect(exit, bot.stderr()).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(6000);

      // Exactly one message per chat over the whole run: no duplicate from a retry or a redelivery.
      expect(api.callsOf('sendMessage').map((call) => call.params.chat_id)).toEqual([1001, 2002]);
      // bot.stop() confirmed the /status update (a last short getUpdates past it), so Telegram would
      // not deliver it again after a restart.
      expect(api.callsOf('getUpdates').at(-1)?.params).toEqual({ offset: updateId + 1, limit: 1 });
      const messages = bot.lines.map((line) => line.msg);
      expect(messages.indexOf('stopping')).toBeLessThan(messages.indexOf('stopped'));
      expect(bot.lines.find((line) => line.msg === 'stopped')).toMatchObject({ status: 'stopped' });
      expect(bot.lines.filter((line) => (line.level ?? 0) >= 50)).toEqual([]);
      expect(bot.other).toEqual([]);
      const [pending] = (await redis.xpending(stream, group)) as [number, ...unknown[]];
      expect(Number(pending)).toBe(0);
    } finally {
      await bot.kill();
      redis.disconnect();
      await cleanupKeys(prefix);
    }
  });
});
