import { Command, Option } from 'commander';
import { pino } from 'pino';
import {
  createRuntime,
  MemoryStreamStorage,
  RedisStreamStorage,
  type Runtime,
  redactUrl,
  type StreamStorage,
} from '../index.js';
import { integerArg, secondsArg } from './arguments.js';
import { describeEvent, progressLine, stamp, totals } from './demo-report.js';
import { demoRouter, startProducer } from './demo-traffic.js';
import { line } from './output.js';
import { describeError } from './redis.js';
import { UsageError } from './usage-error.js';

interface DemoOptions {
  redis?: string;
  stream: string;
  group: string;
  rate: number;
  healEvery: number;
  duration?: number;
  logLevel: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function openStorage(url: string | undefined): StreamStorage {
  if (url === undefined) return new MemoryStreamStorage();
  try {
    return RedisStreamStorage.fromUrl(url);
  } catch (error) {
    // fromUrl throws a TypeError naming the expected form, with the password redacted.
    throw new UsageError(`--redis: ${describeError(error)}`);
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

async function runDemo(options: DemoOptions): Promise<void> {
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
      throw new Error(`cannot reach ${where}: ${describeError(error)} (is Redis running?)`);
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
  const runtime = createRuntime({
    storage,
    router: demoRouter(Math.random),
    consumers: [consumer('demo-1'), consumer('demo-2')],
    supervisor: { maxRestarts: 20, periodMs: 60_000, backoff: { minMs: 200, maxMs: 2000 } },
    logger: pino({ level: options.logLevel, name: 'streamvisor-demo' }, pino.destination(2)),
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
  const producer = startProducer(storage, stream, options.rate, Math.random, (error) =>
    say(`producer: ${describeError(error)}`),
  );

  let last = { at: Date.now(), processed: 0 };
  const progress = setInterval(() => {
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
      say(progressLine({ produced: producer.produced, now, ratePerSecond: rate, pending }));
    })();
  }, 1000);
  const heal =
    options.healEvery > 0
      ? setInterval(() => {
          say(`destroying group "${group}" (XGROUP DESTROY): watch the supervisor heal it`);
          storage
            .destroyGroup(stream, group)
            .catch((error: unknown) => say(`destroy failed: ${describeError(error)}`));
        }, options.healEvery * 1000)
      : undefined;

  const why = await untilEnd(runtime, options.duration);
  say(`stopping (${why})`);
  clearInterval(progress);
  clearInterval(heal);
  await producer.stop();
  await runtime.stop({ timeoutMs: 5000 });
  const end = totals(runtime.snapshot());
  say(
    `done: produced ${producer.produced}, processed ${end.processed}, dead-lettered ${end.deadLettered}, restarts ${end.restarts}`,
  );
  if (runtime.fatalError) throw runtime.fatalError;
}

/**
 * `streamvisor demo`: a producer of bot-like events and two supervised consumers, on the in-memory
 * storage or on Redis, with live state changes and a progress line every second.
 *
 * @example
 * program.addCommand(demoCommand())
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'run a producer and two supervised consumers (in memory, or on Redis with --redis) and watch them live',
    )
    .option('--redis <url>', 'run on this Redis instead of the in-memory storage')
    .option('--stream <name>', 'the stream to use', 'streamvisor:demo')
    .option('--group <name>', 'the consumer group to use', 'demo')
    .addOption(
      new Option('--rate <msgPerSecond>', 'messages produced per second')
        .argParser(integerArg(1))
        .default(50),
    )
    .addOption(
      new Option('--heal-every <seconds>', 'destroy the consumer group this often (0 = never)')
        .argParser(secondsArg)
        .default(15),
    )
    .addOption(
      new Option('--duration <seconds>', 'stop after this long (default: until Ctrl-C)').argParser(
        secondsArg,
      ),
    )
    .option('--log-level <level>', 'runtime log level (pino, to stderr)', 'error')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run demo\n  streamvisor demo --redis redis://127.0.0.1:6379 --heal-every 10\n  streamvisor demo --duration 30 --rate 200',
    )
    .action((options: DemoOptions) => runDemo(options));
}
