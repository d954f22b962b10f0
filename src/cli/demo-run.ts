import { pino } from 'pino';
import {
  createRuntime,
  type Dashboard,
  MemoryStreamStorage,
  RedisStreamStorage,
  type Runtime,
  redactUrl,
  type StreamStorage,
  startDashboard,
} from '../index.js';
import { describeEvent, progressLine, stamp, totals } from './demo-report.js';
import { demoRouter, type Producer, startProducer } from './demo-traffic.js';
import { line } from './output.js';
import { describeError } from './redis.js';
import { UsageError } from './usage-error.js';

/** The options of `streamvisor demo`, as commander parses them. */
export interface DemoOptions {
  redis?: string;
  stream: string;
  group: string;
  rate: number;
  healEvery: number;
  duration?: number;
  logLevel: string;
  /** The dashboard's port (0 = a free one), or `false` with `--no-dashboard`. */
  dashboard: number | false;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function openStorage(url: string | undefined): StreamStorage {
  if (url === undefined) return new MemoryStreamStorage();
  try {
    return RedisStreamStorage.fromUrl(url);
  } catch (error) {
    // fromUrl throws a TypeError naming the expected form, with the password redacted.
    throw new UsageError(`--redis: ${describeError(error, redactUrl)}`);
  }
}

/** Resolves when the demo should end: Ctrl-C, SIGTERM, `--duration`, or the runtime failing. */
function untilEnd(runtime: Runtime, durationS: number | undefined): Promise<string> {
  return new Promise((resolve) => {
    const finish = (why: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      clearTimeout(timer);
      resolve(why);
    };
    const onInt = () => finish('Ctrl-C');
    const onTerm = () => finish('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    const timer =
      durationS === undefined ? undefined : setTimeout(() => finish('--duration reached'), durationS * 1000);
    void runtime.done.then(() => finish('the runtime ended'));
  });
}

/**
 * Run the demo until Ctrl-C, SIGTERM, `--duration` or a runtime failure (then it throws).
 *
 * @example
 * await runDemo({ stream: 'streamvisor:demo', group: 'demo', rate: 50, healEvery: 15, logLevel: 'error', dashboard: 0 })
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  if (!LOG_LEVELS.includes(options.logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${options.logLevel}"`);
  }
  const storage = openStorage(options.redis);
  const where = options.redis === undefined ? 'in-memory storage' : redactUrl(options.redis);
  if (storage.kind === 'redis') {
    try {
      await storage.length(options.stream);
    } catch (error) {
      await storage.close();
      throw new Error(`cannot reach ${where}: ${describeError(error, redactUrl)} (is Redis running?)`);
    }
  }
  const startedAt = Date.now();
  const say = (text: string) => line(`${stamp(startedAt)} ${text}`);
  const { stream, group } = options;
  const consumer = (name: string) => ({
    stream,
    group,
    consumer: name,
    id: name,
    concurrency: 8,
    blockMs: 1000,
    retry: { attempts: 3, backoff: { initialMs: 50, maxMs: 500 } },
  });
  const logger = pino({ level: options.logLevel, name: 'streamvisor-demo' }, pino.destination(2));
  const runtime = createRuntime({
    storage,
    router: demoRouter(Math.random),
    consumers: [consumer('demo-1'), consumer('demo-2')],
    supervisor: { maxRestarts: 20, periodMs: 60_000, backoff: { minMs: 200, maxMs: 2000 } },
    logger,
  });
  runtime.subscribe((event) => {
    const text = describeEvent(event);
    if (text !== null) say(text);
  });

  say(
    `demo on ${where}: stream "${stream}", group "${group}", 2 consumers × 8 workers, ~${options.rate} msg/s`,
  );
  say(
    options.healEvery > 0
      ? `the group is destroyed every ${options.healEvery}s to show the supervisor healing it; Ctrl-C stops`
      : 'Ctrl-C stops',
  );
  await runtime.start();
  let dashboard: Dashboard | null = null;
  let producer: Producer | null = null;
  let progress: NodeJS.Timeout | undefined;
  let heal: NodeJS.Timeout | undefined;
  try {
    const running = startProducer(storage, stream, options.rate, Math.random, (error) =>
      say(`producer: ${describeError(error, redactUrl)}`),
    );
    producer = running;
    let last = { at: Date.now(), processed: 0 };
    progress = setInterval(() => {
      void (async () => {
        const now = totals(runtime.snapshot());
        const at = Date.now();
        const rate = ((now.processed - last.processed) * 1000) / Math.max(1, at - last.at);
        last = { at, processed: now.processed };
        let pending: number | null = null;
        try {
          pending = (await storage.groups(stream)).find((g) => g.name === group)?.pending ?? 0;
        } catch {
          // Redis unreachable for a moment: the consumers report it as backoff; show "?".
        }
        say(progressLine({ produced: running.produced, now, ratePerSecond: rate, pending }));
      })();
    }, 1000);
    if (options.healEvery > 0) {
      heal = setInterval(() => {
        say(`destroying group "${group}" (XGROUP DESTROY): watch the supervisor heal it`);
        storage
          .destroyGroup(stream, group)
          .catch((error: unknown) => say(`destroy failed: ${describeError(error, redactUrl)}`));
      }, options.healEvery * 1000);
    }
    const ended = untilEnd(runtime, options.duration);
    // After the producer: laying out the statecharts takes a moment, and the demo should not wait.
    if (options.dashboard !== false) {
      dashboard = await startDashboard(runtime, { port: options.dashboard, logger });
      say(`dashboard: ${dashboard.url}`);
    }
    say(`stopping (${await ended})`);
  } finally {
    clearInterval(progress);
    clearInterval(heal);
    await producer?.stop();
    await runtime.stop({ timeoutMs: 5000 });
    await dashboard?.close();
  }
  const end = totals(runtime.snapshot());
  say(
    `done: produced ${producer.produced}, processed ${end.processed}, dead-lettered ${end.deadLettered}, restarts ${end.restarts}`,
  );
  if (runtime.fatalError) throw runtime.fatalError;
}
