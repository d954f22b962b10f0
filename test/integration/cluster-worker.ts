/**
 * One consumer process of the cluster scale test: a runtime on `RedisStreamStorage.fromUrl(url)` (a
 * `redis+cluster://` URL) consuming the partitioned stream given in `SV_CLUSTER_WORKER` (JSON, see
 * `ClusterWorkerConfig`). It reports on stdout, one JSON object per line:
 * - `{"sv":"ready"}` once every partition's consumer reads;
 * - `{"sv":"handled","mid":…,"stream":…,"by":…}` for every message, written synchronously (stdout is
 *   a pipe) BEFORE the handler returns, so a message acked is always a message reported;
 * - `{"sv":"failed","error":…}` if the runtime gives up.
 * SIGTERM stops it gracefully. Started by cluster-scale.test.ts as `node --import tsx …`.
 */
import { createRuntime, RedisStreamStorage, Router } from '../../src/index.js';

export interface ClusterWorkerConfig {
  url: string;
  stream: string;
  group: string;
  consumer: string;
  partitions: number;
  /** Handler time, ms. */
  handlerMs: number;
  claimMinIdleMs: number;
  staleConsumerMs: number;
}

const config = JSON.parse(process.env.SV_CLUSTER_WORKER ?? '{}') as ClusterWorkerConfig;

function say(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

const router = new Router().on('job', async (message, ctx) => {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, config.handlerMs);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
  const { mid } = message.payload as { mid: string };
  say({ sv: 'handled', mid, stream: message.stream, by: config.consumer });
});

const runtime = createRuntime({
  storage: RedisStreamStorage.fromUrl(config.url),
  router,
  consumers: [
    {
      stream: config.stream,
      group: config.group,
      consumer: config.consumer,
      partitions: config.partitions,
      startId: '0',
      concurrency: 4,
      blockMs: 500,
      claim: { minIdleMs: config.claimMinIdleMs, intervalMs: 500 },
      staleConsumerMs: config.staleConsumerMs,
    },
  ],
  // A failover makes the consumers of the lost shard back off (connection errors), not exit; the
  // generous limit is only there so a slow election on a loaded machine cannot fail the runtime.
  supervisor: { maxRestarts: 100, backoff: { minMs: 100, maxMs: 1000 } },
  onFatal: (error) => say({ sv: 'failed', error: error.message }),
});

process.once('SIGTERM', () => {
  void runtime.stop({ timeoutMs: 2000 }).then(() => process.exit(0));
});
runtime.start().then(
  () => say({ sv: 'ready' }),
  (error: unknown) => say({ sv: 'failed', error: String(error) }),
);
