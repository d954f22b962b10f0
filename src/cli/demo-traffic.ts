import {
  type HandlerContext,
  type Message,
  NonRetryableError,
  Router,
  type StreamStorage,
} from '../index.js';

const NAMES = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'radia'];
const TEXTS = ['hi!', '/start', 'how much is shipping?', 'thanks', '/help', 'order status?', '👍'];

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Resolve after `ms`, or reject when `signal` aborts (the runtime's drain deadline passed). */
function work(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The fields of the `n`-th demo message: bot-like events with JSON payloads, and now and then a bad
 * one on purpose: every 97th has no `type`, every 89th a malformed JSON payload, every 71st an unknown
 * type, every 113th a refund the handler rejects as non-retryable.
 *
 * @example
 * demoMessage(1, Math.random) // { type: 'message.received', payload: '{"chatId":…}' }
 */
function demoMessage(n: number, random: () => number): Record<string, string> {
  const chatId = 1000 + Math.floor(random() * 20);
  const userId = 1 + Math.floor(random() * 500);
  if (n % 97 === 0) return { payload: JSON.stringify({ chatId, note: 'a producer forgot the type' }) };
  if (n % 89 === 0) return { type: 'order.paid', payload: `{"orderId": ${n}, "amount": 12.` };
  if (n % 71 === 0) return { type: 'sticker.sent', payload: JSON.stringify({ chatId, userId }) };
  if (n % 113 === 0) return { type: 'order.refunded', payload: JSON.stringify({ orderId: n, amount: -5 }) };
  const roll = random();
  if (roll < 0.55) {
    return {
      type: 'message.received',
      payload: JSON.stringify({ chatId, userId, text: pick(TEXTS, random) }),
    };
  }
  if (roll < 0.75) {
    return { type: 'user.joined', payload: JSON.stringify({ chatId, userId, name: pick(NAMES, random) }) };
  }
  const amount = Math.round((5 + random() * 95) * 100) / 100;
  return {
    type: 'order.paid',
    payload: JSON.stringify({ orderId: n, userId, amount, currency: 'EUR' }),
    'x-tenant': pick(['acme', 'globex', 'initech'], random),
  };
}

/**
 * The demo's handlers: quick chat handlers, and a payment handler whose gateway fails 35% of
 * attempts, so retries (and, after three failures, dead letters) show up.
 *
 * @example
 * createRuntime({ router: demoRouter(Math.random), consumers: [...] })
 */
export function demoRouter(random: () => number): Router {
  const router = new Router();
  router.on('message.received', (_m: Message, ctx: HandlerContext) => work(2 + random() * 20, ctx.signal));
  router.on('user.joined', (_m: Message, ctx: HandlerContext) => work(5 + random() * 10, ctx.signal));
  router.on('order.paid', async (_m: Message, ctx: HandlerContext) => {
    await work(10 + random() * 40, ctx.signal);
    if (random() < 0.35) throw new Error('payment gateway timed out (simulated)');
  });
  router.on('order.refunded', (message: Message<{ amount?: number }>) => {
    if ((message.payload.amount ?? 0) < 0) throw new NonRetryableError('refund with a negative amount');
  });
  return router;
}

/** A running producer: `produced` counts the messages added so far. */
export interface Producer {
  readonly produced: number;
  /** Stop adding; resolves once the add in flight (if any) has settled. */
  stop(): Promise<void>;
}

/**
 * Add about `ratePerSecond` demo messages per second to `stream`, in a batch every 100 ms.
 * A failed add (Redis down) is reported to `onError` and retried with the next batch.
 *
 * @example
 * const producer = startProducer(storage, 'demo', 50, Math.random, console.error)
 */
export function startProducer(
  storage: StreamStorage,
  stream: string,
  ratePerSecond: number,
  random: () => number,
  onError: (error: unknown) => void,
): Producer {
  let produced = 0;
  let owed = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    owed += ratePerSecond / 10;
    if (busy) return;
    busy = true;
    inFlight = (async () => {
      try {
        while (owed >= 1) {
          await storage.add(stream, demoMessage(produced + 1, random), { maxLen: 100_000 });
          produced++;
          owed--;
        }
      } catch (error) {
        owed = 0;
        onError(error);
      } finally {
        busy = false;
      }
    })();
  }, 100);
  return {
    get produced() {
      return produced;
    },
    async stop() {
      clearInterval(timer);
      owed = 0;
      await inFlight;
    },
  };
}
