// A process with one ordered consumer and a durable retry scheduler on Redis, run by
// retry-in-place-redis.test.ts through tsx. Env: REDIS_URL, STREAM, FAIL (the `${key}${n}` label
// whose handler always throws; empty for none), SCHEDULED_MS (the first scheduled retry's delay).
// Prints one JSON line per handler call (`ran`) and per scheduled retry (`scheduled`); the test
// SIGKILLs it (no cleanup, no ack) or stops it with SIGTERM.
import { pino } from 'pino';
import { Router } from '../../src/routing/router.js';
// Direct imports rather than src/index.ts: fewer modules for tsx to load.
import { createRuntime } from '../../src/runtime/runtime.js';
import { RedisRetryScheduler } from '../../src/storage/redis/redis-retry-scheduler.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const stream = process.env.STREAM ?? '';
const fail = process.env.FAIL ?? '';
const scheduledMs = Number(process.env.SCHEDULED_MS ?? '5000');
const print = (line: Record<string, unknown>) => void process.stdout.write(`${JSON.stringify(line)}\n`);

const router = new Router();
router.on('t', (message) => {
  const { key, n } = message.payload as { key: string; n: number };
  const label = `${key}${n}`;
  print({
    msg: 'ran',
    label,
    retryAttempt: message.fields['x-retry-attempt'] ?? null,
    deliveries: message.deliveries,
  });
  if (label === fail) throw new Error('down');
});

const runtime = createRuntime({
  storage: RedisStreamStorage.fromUrl(url),
  retryScheduler: RedisRetryScheduler.fromUrl(url, { pollIntervalMs: 100 }),
  router,
  logger: pino({ level: 'error' }, pino.destination(2)),
  consumers: [
    {
      stream,
      group: 'g',
      consumer: 'ordered-consumer',
      startId: '0',
      blockMs: 200,
      concurrency: 4,
      claim: { minIdleMs: 1000, intervalMs: 500 },
      orderingKey: (message) => (message.payload as { key?: string }).key,
      retry: {
        attempts: 1,
        scheduled: { attempts: 3, backoff: { initialMs: scheduledMs, maxMs: scheduledMs } },
      },
    },
  ],
});
runtime.subscribe((event) => {
  if (event.type === 'message.scheduled')
    print({ msg: 'scheduled', messageId: event.messageId, delayMs: event.delayMs, inPlace: event.inPlace });
});
process.once('SIGTERM', () => {
  void runtime.stop({ timeoutMs: 1000 }).then(() => process.exit(0));
});
await runtime.start();
print({ msg: 'ready' });
