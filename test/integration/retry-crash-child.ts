// A process that dies on one message: run by retry-poison.test.ts through tsx, restarted by the test.
// Env: REDIS_URL, STREAM, GROUP, MAX_DELIVERIES. It kills itself (SIGKILL: no cleanup, no ack) 100 ms
// after its handler gets a `poison` message, prints `handled <id>` for every other message, and stops
// gracefully on SIGTERM.
import { pino } from 'pino';
import { Router } from '../../src/routing/router.js';
// Direct imports rather than src/index.ts: fewer modules for tsx to load at each restart.
import { createRuntime } from '../../src/runtime/runtime.js';
import { RedisStreamStorage } from '../../src/storage/redis/redis-stream-storage.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const stream = process.env.STREAM ?? '';
const group = process.env.GROUP ?? '';
const maxDeliveries = Number(process.env.MAX_DELIVERIES ?? '3');

const router = new Router();
router.on('poison', () => {
  process.stdout.write('dying\n');
  // Shortly after, as a crash does: the other message of the batch has been acked by then.
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 100);
  return new Promise<void>(() => {});
});
router.on('ok', (message) => void process.stdout.write(`handled ${message.id}\n`));

const runtime = createRuntime({
  storage: RedisStreamStorage.fromUrl(url),
  router,
  logger: pino({ level: 'error' }, pino.destination(2)),
  consumers: [
    {
      stream,
      group,
      consumer: 'fixed-consumer',
      startId: '0',
      blockMs: 200,
      claim: { minIdleMs: 200, intervalMs: 500 },
      deadLetter: { maxDeliveries },
    },
  ],
});
runtime.subscribe((event) => {
  if (event.type === 'message.dead-lettered')
    process.stdout.write(`dead ${event.messageId} ${event.reason}\n`);
});
process.once('SIGTERM', () => {
  void runtime.stop({ timeoutMs: 1000 }).then(() => process.exit(0));
});
await runtime.start();
process.stdout.write('ready\n');
