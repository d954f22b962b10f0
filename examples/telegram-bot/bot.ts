/**
 * A Telegram bot (grammY, long polling) and supervised Redis Streams consumers in one process.
 *
 * - Events published to Redis (`notify.user`, `order.shipped`) become Telegram messages: their
 *   handlers call `ctx.container.bot.api.sendMessage(chatId, text)`.
 * - The bot answers `/status` with a summary of `runtime.snapshot()`.
 * - SIGTERM/SIGINT: `bot.stop()` (no more updates; the last offset is confirmed to Telegram), then
 *   `runtime.stop()` (in-flight handlers finish, what cannot finish stays pending), then exit 0.
 *
 * Run it:   BOT_TOKEN=123:abc REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/telegram-bot/bot.ts
 * Feed it:  redis-cli XADD bot_events '*' type notify.user payload '{"chatId":12345,"text":"Hello"}'
 *
 * Environment: BOT_TOKEN (required), TELEGRAM_API_ROOT (default https://api.telegram.org; a local
 * Bot API server or the test's fake), REDIS_URL, STREAM (default bot_events), GROUP (default
 * telegram-bot), CONSUMER_NAME (default the host name), STOP_TIMEOUT_MS (default 10000), LOG_LEVEL
 * (default info). Logs are pino JSON lines on stdout.
 */
import { hostname } from 'node:os';
import { Bot, GrammyError } from 'grammy';
import { pino } from 'pino';
import { z } from 'zod';
// In an application: `from 'streamvisor'`.
import {
  createRuntime,
  NonRetryableError,
  RedisStreamStorage,
  Router,
  type RuntimeSnapshot,
} from '../../src/index.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'telegram-bot' });

const token = process.env.BOT_TOKEN;
if (token === undefined || token === '') {
  logger.fatal('Set BOT_TOKEN to the token @BotFather gave you');
  process.exit(2);
}
const apiRoot = process.env.TELEGRAM_API_ROOT;
const stream = process.env.STREAM ?? 'bot_events';
const group = process.env.GROUP ?? 'telegram-bot';
const stopTimeoutMs = Number(process.env.STOP_TIMEOUT_MS ?? 10_000);

const bot = new Bot(token, apiRoot === undefined ? {} : { client: { apiRoot } });

/** What every handler gets as `ctx.container`. */
interface Services {
  bot: Bot;
}

/**
 * grammY's Node build types `signal` with the `abort-controller` polyfill's AbortSignal; Node's own
 * AbortSignal (`ctx.signal`) works with it at run time (node-fetch checks the class name), only the
 * declared types differ.
 */
type GrammySignal = Parameters<Bot['api']['sendMessage']>[3];

/**
 * Sends a Telegram message; a request Telegram will never accept (400: chat not found, 403: the
 * user blocked the bot) dead-letters the message at once instead of retrying it. Everything else
 * (429 flood control, network errors) is thrown as it is: the runtime retries it with backoff.
 */
async function send(bot: Bot, chatId: number, text: string, signal: AbortSignal): Promise<void> {
  try {
    await bot.api.sendMessage(chatId, text, undefined, signal as unknown as GrammySignal);
  } catch (error) {
    if (error instanceof GrammyError && (error.error_code === 400 || error.error_code === 403)) {
      throw new NonRetryableError(`Telegram refused sendMessage: ${error.description}`, { cause: error });
    }
    throw error;
  }
}

const router = new Router<Services>()
  .on(
    'notify.user',
    async (message, ctx) => {
      await send(ctx.container.bot, message.payload.chatId, message.payload.text, ctx.signal);
      ctx.log.info({ messageId: message.id, chatId: message.payload.chatId }, 'notified');
    },
    { schema: z.object({ chatId: z.number().int(), text: z.string().min(1).max(4096) }) },
  )
  .on(
    'order.shipped',
    async (message, ctx) => {
      const { chatId, orderId } = message.payload;
      await send(ctx.container.bot, chatId, `Your order ${orderId} has shipped.`, ctx.signal);
      ctx.log.info({ messageId: message.id, chatId }, 'notified');
    },
    { schema: z.object({ chatId: z.number().int(), orderId: z.string() }) },
  );

const runtime = createRuntime({
  storage: RedisStreamStorage.fromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
  router,
  container: { bot },
  // A stable consumer name: after a crash, the next start re-processes this consumer's pending messages.
  consumers: [{ stream, group, consumer: process.env.CONSUMER_NAME ?? hostname(), concurrency: 4 }],
  logger,
  onFatal: (error) => {
    logger.fatal({ err: error }, 'runtime failed');
    void shutdown('runtime failed', 1);
  },
});

/** The `/status` reply: one line for the runtime, one per consumer. */
function describeSnapshot(snapshot: RuntimeSnapshot): string {
  const lines = [`streamvisor: ${snapshot.status}`];
  for (const c of snapshot.consumers) {
    lines.push(
      `${c.id}: ${c.state}, processed ${c.processed}, failed ${c.failed}, ` +
        `dead-lettered ${c.deadLettered}, in flight ${c.inFlight}, restarts ${c.restarts}`,
    );
  }
  return lines.join('\n');
}

bot.command('status', async (ctx) => {
  await ctx.reply(describeSnapshot(runtime.snapshot()));
});
bot.catch((error) => {
  logger.error({ err: error.error, updateId: error.ctx.update.update_id }, 'bot middleware failed');
});

let polling: Promise<void> = Promise.resolve();
let stopping = false;
async function shutdown(reason: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ reason, timeoutMs: stopTimeoutMs }, 'stopping');
  // 1. No more updates. bot.stop() cancels the pending getUpdates and confirms the last offset, so
  //    Telegram does not send the same updates again after a restart.
  await bot.stop().catch((error: unknown) => logger.warn({ err: error }, 'bot.stop failed'));
  // 2. Let the update being handled (e.g. a /status reply) finish; bounded, like the runtime's drain.
  await Promise.race([polling, new Promise((resolve) => setTimeout(resolve, stopTimeoutMs).unref())]);
  // 3. Stop the consumers: in-flight handlers finish (they still send through bot.api), then exit.
  try {
    await runtime.stop({ timeoutMs: stopTimeoutMs });
  } catch (error) {
    logger.error({ err: error }, 'runtime.stop failed');
    code = 1;
  }
  logger.info({ status: runtime.status }, 'stopped');
  process.exit(code);
}
// A second signal while stopping gets Node's default behaviour: exit at once.
process.once('SIGTERM', (signal) => void shutdown(signal, 0));
process.once('SIGINT', (signal) => void shutdown(signal, 0));

await runtime.start();
polling = bot
  .start({ onStart: (me) => logger.info({ username: me.username, stream, group }, 'ready') })
  .catch((error: unknown) => {
    // 401 (bad token) or 409 (another process polls with this token): grammY gives up.
    logger.fatal({ err: error }, 'bot polling failed');
    void shutdown('bot polling failed', 1);
  });
