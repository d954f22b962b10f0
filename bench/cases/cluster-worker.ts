/**
 * One process of the cluster case: a streamvisor runtime consuming every partition of the stream in
 * SV_BENCH_CLUSTER (JSON) through `RedisStreamStorage.fromUrl('redis+cluster://…')`, public API
 * only. Tells the parent `ready` over IPC; on `stop` it stops and reports its handler calls and the
 * sum of `payload.i` it saw. Started by cluster-partitions.ts, not by hand.
 */
import { pino } from 'pino';
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';
import { BENCH_TYPE } from '../lib/redis.js';
import { droppingAcks } from '../lib/streamvisor-drain.js';

interface Config {
  url: string;
  stream: string;
  group: string;
  consumer: string;
  partitions: number;
  concurrency: number;
  dropAcks?: boolean;
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('cluster-worker must be started with an IPC channel (fork)');
  const config = JSON.parse(process.env.SV_BENCH_CLUSTER ?? 'null') as Config | null;
  if (config === null) throw new Error('SV_BENCH_CLUSTER is not set');
  let calls = 0;
  let checksum = 0;
  const router = new Router<object>().on(BENCH_TYPE, (message) => {
    calls++;
    checksum += (message.payload as { i: number }).i;
  });
  const runtime = createRuntime({
    storage: config.dropAcks
      ? droppingAcks(RedisStreamStorage.fromUrl(config.url))
      : RedisStreamStorage.fromUrl(config.url),
    router,
    container: {},
    consumers: [
      {
        stream: config.stream,
        group: config.group,
        consumer: config.consumer,
        partitions: config.partitions,
        concurrency: config.concurrency,
      },
    ],
    logger: pino({ level: 'warn' }),
  });
  await runtime.start();
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'stop') return;
    void runtime.stop({ timeoutMs: 10_000 }).then(() => {
      send({ type: 'done', calls, checksum }, () => process.exit(0));
    });
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
