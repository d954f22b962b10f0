/**
 * Embedding streamvisor in a plain Node process (a bot, a service): register handlers by message
 * type, give them your services through a container, start, and stop gracefully on SIGTERM/SIGINT
 * so no message is lost (in-flight handlers finish; what cannot finish in time stays pending and is
 * re-processed by the next start, since the consumer name is stable).
 *
 * Run it:   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/embedded/main.ts
 * Feed it:  redis-cli XADD bot_events '*' type user.joined payload '{"userId":42,"name":"Ada"}'
 *
 * Environment: REDIS_URL, STREAM (default bot_events), GROUP (default bot), CONSUMER_NAME (default
 * the host name), STOP_TIMEOUT_MS (default 10000), LOG_LEVEL (default info).
 * It logs JSON lines with pino on stdout; each handled message logs `msg: "handled"` with its id.
 */
import { hostname } from 'node:os';
import { pino } from 'pino';
import { z } from 'zod';
// In an application: `from 'streamvisor'`.
import { createRuntime, NonRetryableError, RedisStreamStorage, Router } from '../../src/index.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'embedded-example' });

/** A fake notification service: where a real bot would call Telegram, e-mail or a webhook. */
class Notifier {
  sent = 0;

  async send(to: string, text: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.sent++;
    logger.info({ to, text }, 'notification sent');
  }
}

/** What every handler gets as `ctx.container`. */
interface Services {
  notifier: Notifier;
}

const router = new Router<Services>();

router.on(
  'user.joined',
  async (message, ctx) => {
    await ctx.container.notifier.send(
      `user:${message.payload.userId}`,
      `Welcome, ${message.payload.name}!`,
      ctx.signal,
    );
    ctx.log.info({ messageId: message.id }, 'handled');
  },
  { schema: z.object({ userId: z.number(), name: z.string() }) },
);

router.on('order.paid', async (message, ctx) => {
  const { orderId, amount } = message.payload as { orderId?: string; amount?: number };
  if (typeof orderId !== 'string') throw new NonRetryableError('order.paid without an orderId');
  await ctx.container.notifier.send('billing', `Order ${orderId} paid: ${amount ?? 0}`, ctx.signal);
  ctx.log.info({ messageId: message.id }, 'handled');
});

// A slow job: shows that stop() lets in-flight work finish (up to STOP_TIMEOUT_MS).
router.on('report.requested', async (message, ctx) => {
  const { durationMs = 300 } = message.payload as { durationMs?: number };
  ctx.log.info({ messageId: message.id, durationMs }, 'report started');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, durationMs);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
  await ctx.container.notifier.send('reports', `Report ${message.id} ready`, ctx.signal);
  ctx.log.info({ messageId: message.id }, 'handled');
});

const stream = process.env.STREAM ?? 'bot_events';
const group = process.env.GROUP ?? 'bot';
const stopTimeoutMs = Number(process.env.STOP_TIMEOUT_MS ?? 10_000);

const runtime = createRuntime({
  storage: RedisStreamStorage.fromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
  router,
  container: { notifier: new Notifier() },
  // A stable consumer name: after a crash, the next start re-processes this consumer's pending messages.
  consumers: [{ stream, group, consumer: process.env.CONSUMER_NAME ?? hostname(), concurrency: 8 }],
  logger,
  onFatal: (error) => {
    logger.fatal({ err: error }, 'runtime failed');
    process.exit(1);
  },
});

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, timeoutMs: stopTimeoutMs }, 'stopping');
  try {
    await runtime.stop({ timeoutMs: stopTimeoutMs });
  } catch (error) {
    logger.error({ err: error }, 'stop failed');
    process.exit(1);
  }
  logger.info({ status: runtime.status }, 'stopped');
  process.exit(0);
}
// A second signal while stopping gets Node's default behaviour: exit at once.
process.once('SIGTERM', (signal) => void shutdown(signal));
process.once('SIGINT', (signal) => void shutdown(signal));

await runtime.start();
logger.info({ stream, group }, 'ready');
