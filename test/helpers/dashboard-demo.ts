// A runtime with `count` consumers on in-memory storage and a dashboard on it, with traffic of a few
// message types: most succeed, some fail once and succeed on retry, some are poison (dead-lettered).
// Used by the browser tests of the page's layout and by scripts/dashboard-screenshots.ts.
import { pino } from 'pino';
import {
  createRuntime,
  type Dashboard,
  MemoryStreamStorage,
  NonRetryableError,
  Router,
  type Runtime,
  startDashboard,
} from '../../src/index.js';

export interface DashboardDemo {
  runtime: Runtime<unknown>;
  dashboard: Dashboard;
  storage: MemoryStreamStorage;
  /** The streams, consumers spread over them (four consumers a stream at most). */
  streams: string[];
  /** Add `n` messages to every stream: types `order.placed` (ok), `order.flaky` (fails once), `order.poison` (every `poisonEvery`-th). */
  publish(n: number, poisonEvery?: number): Promise<void>;
  close(): Promise<void>;
}

const STREAM_NAMES = ['orders', 'payments', 'audit', 'emails', 'shipments', 'invoices', 'refunds'];

export async function startDashboardDemo(count: number): Promise<DashboardDemo> {
  const storage = new MemoryStreamStorage();
  const failedOnce = new Set<string>();
  const router = new Router();
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  router.on('order.placed', async () => pause(2 + Math.random() * 6));
  router.on('order.flaky', async (message) => {
    await pause(1);
    if (!failedOnce.has(message.id)) {
      failedOnce.add(message.id);
      throw new Error('downstream timed out');
    }
  });
  router.on('order.poison', async () => {
    throw new NonRetryableError('payload rejected: amount < 0');
  });
  const streams = STREAM_NAMES.slice(0, Math.max(1, Math.ceil(count / 4)));
  const consumers = Array.from({ length: count }, (_, i) => {
    const stream = streams[i % streams.length]!;
    return {
      id: `${stream}-${Math.floor(i / streams.length) + 1}`,
      stream,
      group: `${stream}-workers`,
      consumer: `pod-${i + 1}`,
      concurrency: 4,
      blockMs: 100,
      retry: { attempts: 3, backoff: { initialMs: 20, maxMs: 40 } },
    };
  });
  const runtime = createRuntime({ storage, router, consumers, logger: pino({ level: 'silent' }) });
  const dashboard = await startDashboard(runtime, { port: 0, logger: pino({ level: 'silent' }) });
  await runtime.start();
  return {
    runtime,
    dashboard,
    storage,
    streams,
    async publish(n, poisonEvery = 0) {
      for (let i = 1; i <= n; i++) {
        for (const stream of streams) {
          const type =
            poisonEvery > 0 && i % poisonEvery === 0
              ? 'order.poison'
              : i % 7 === 0
                ? 'order.flaky'
                : 'order.placed';
          await storage.add(stream, { type, payload: JSON.stringify({ n: i }) });
        }
      }
    },
    async close() {
      await dashboard.close();
      await runtime.stop({ timeoutMs: 2000 });
    },
  };
}
