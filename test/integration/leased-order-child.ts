/**
 * One process of the leased-order test (leased-order.test.ts): a runtime on the shared Redis with a
 * partitioned consumer, `orderingKey` = the message's key, random first-attempt failures (retried in
 * process). Configured by the JSON in `SV_LEASED`; reports on stdout, one JSON object per line:
 * `{"sv":"start","stream","id","key","seq","at"}` when a handler starts (`at`: this machine's clock,
 * ms, sub-ms precision, comparable across the processes), `{"sv":"lease",…,"at"}` for every lease
 * change, `{"sv":"ready"}` once started. SIGTERM stops it gracefully.
 */
import { pino } from 'pino';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { PARTITION_KEY_FIELD } from '../../src/wire/headers.js';

interface LeasedConfig {
  url: string;
  stream: string;
  group: string;
  name: string;
  partitions: number;
  leased: boolean;
  leaseTtlMs: number;
  /** One in `failEvery` first attempts fails. */
  failEvery: number;
}

const config = JSON.parse(process.env.SV_LEASED ?? '{}') as LeasedConfig;
const now = () => performance.timeOrigin + performance.now();
const say = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(record)}\n`);

const router = new Router().on('step', async (message, ctx) => {
  const { key, seq } = message.payload as { key: string; seq: number };
  if (ctx.attempt === 1) say({ sv: 'start', stream: message.stream, id: message.id, key, seq, at: now() });
  await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
  if (ctx.attempt === 1 && Math.random() * config.failEvery < 1) throw new Error('first attempt fails');
});

const runtime = createRuntime({
  storage: RedisStreamStorage.fromUrl(config.url),
  router,
  logger: pino({ level: 'error' }),
  consumers: [
    {
      stream: config.stream,
      group: config.group,
      consumer: config.name,
      partitions: config.partitions,
      ...(config.leased ? { assignment: 'leased' as const, leaseTtlMs: config.leaseTtlMs } : {}),
      concurrency: 8,
      // Read ahead of the workers, so a process holds messages it has not started (as fast handlers do).
      prefetch: 32,
      blockMs: 500,
      orderingKey: (message) => message.fields[PARTITION_KEY_FIELD],
      retry: { attempts: 5, backoff: { initialMs: 100, maxMs: 200 } },
      // Without leases, a dead process's pending messages are claimed by the others within the test.
      claim: { minIdleMs: 1_000, intervalMs: 1_000 },
    },
  ],
});
runtime.subscribe((event) => {
  if (event.type === 'partition.lease') say({ sv: 'lease', ...event, at: now() });
});
process.once('SIGTERM', () => {
  void runtime.stop({ timeoutMs: 5_000 });
});
await runtime.start();
say({ sv: 'ready' });
