/**
 * Scale over a Redis Cluster: the pre-filled drain of one logical stream with 12 partitions
 * (`…:{0}` … `…:{11}`, entry i in partition i mod 12), on a private cluster of 1 and then of 3
 * masters (test/helpers/redis-cluster.ts, no replicas, no persistence), consumed by 1 and by 2
 * processes (one runtime each, `partitions: 12`, concurrency 8 per partition). Groups are created at
 * `$`; once every process is blocked reading, each group is rewound to 0 and one last entry per
 * partition wakes the readers; the clock stops when every partition's group has delivered its last
 * entry and nothing is pending. Every message must be handled exactly once (calls and checksum).
 * Ignores REDIS_URL: it needs clusters of its own.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Cluster } from 'ioredis';
import { startRedisCluster } from '../../test/helpers/redis-cluster.js';
import { BENCH_TYPE, payloadOf } from '../lib/redis.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { forkWorker, killWorkers, nextMessage, stopWorkers } from '../lib/workers.js';

const PARTITIONS = 12;
const CONCURRENCY = 8;
const WORKER = fileURLToPath(new URL('./cluster-worker.ts', import.meta.url));
const VARIANTS: { shards: number; processes: number }[] = [
  { shards: 1, processes: 1 },
  { shards: 1, processes: 2 },
  { shards: 3, processes: 1 },
  { shards: 3, processes: 2 },
];

function flatInfo(flat: (string | number)[]): Map<string, string> {
  const info = new Map<string, string>();
  for (let k = 0; k < flat.length; k += 2) info.set(String(flat[k]), String(flat[k + 1]));
  return info;
}

/** Redis CPU (user + sys) of every master, ms. */
async function clusterCpuMs(admin: Cluster): Promise<number> {
  const totals = await Promise.all(
    admin.nodes('master').map(async (node) => {
      const info = await node.info('cpu');
      const pick = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 'NaN');
      return (pick('used_cpu_user') + pick('used_cpu_sys')) * 1000;
    }),
  );
  return totals.reduce((sum, ms) => sum + ms, 0);
}

async function runVariant(ctx: BenchContext, shards: number, processes: number): Promise<CaseRow> {
  const n = ctx.sizes.messages;
  const variant = `${shards} shard${shards > 1 ? 's' : ''} × ${processes} process${processes > 1 ? 'es' : ''}`;
  const cluster = await startRedisCluster({ masters: shards });
  const admin = new Cluster(
    cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    { redisOptions: { protocol: 2 } },
  );
  const children: ChildProcess[] = [];
  try {
    const stream = `${ctx.keyPrefix}cluster`;
    const streams = Array.from({ length: PARTITIONS }, (_, p) => `${stream}:{${p}}`);
    const lastOf = new Map<string, number>();
    ctx.log(`cluster ${variant}: filling ${n} entries over ${PARTITIONS} partitions`);
    await Promise.all(
      streams.map(async (key, p) => {
        const mine: number[] = [];
        for (let i = p; i < n; i += PARTITIONS) mine.push(i);
        lastOf.set(key, mine.pop() ?? -1);
        for (let start = 0; start < mine.length; start += 1000) {
          const pipeline = admin.pipeline(); // one key per pipeline: one slot
          for (const i of mine.slice(start, start + 1000))
            pipeline.xadd(key, '*', 'type', BENCH_TYPE, 'payload', payloadOf(i));
          const replies = (await pipeline.exec()) ?? [];
          for (const [error] of replies) if (error) throw error;
        }
        await admin.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
      }),
    );
    for (let p = 0; p < processes; p++) {
      const config = {
        url: cluster.url,
        stream,
        group: 'g',
        consumer: `c${p + 1}`,
        partitions: PARTITIONS,
        concurrency: CONCURRENCY,
        dropAcks: ctx.sabotage === 'drop-acks',
      };
      children.push(forkWorker(WORKER, 'SV_BENCH_CLUSTER', config));
    }
    await Promise.all(children.map((child) => nextMessage(child, 'ready', 60_000, 'cluster worker')));
    await new Promise((resolve) => setTimeout(resolve, 500)); // every partition consumer is blocked now
    const cpu0 = await clusterCpuMs(admin);
    const t0 = performance.now();
    const lastIds = new Map<string, string>();
    await Promise.all(
      streams.map(async (key) => {
        await admin.xgroup('SETID', key, 'g', '0');
        const last = lastOf.get(key) ?? -1;
        if (last >= 0)
          lastIds.set(
            key,
            String(await admin.xadd(key, '*', 'type', BENCH_TYPE, 'payload', payloadOf(last))),
          );
      }),
    );
    let lastChange = performance.now();
    let previous = '';
    for (;;) {
      const states = await Promise.all(
        [...lastIds].map(async ([key, lastId]) => {
          const groups = (await admin.xinfo('GROUPS', key)) as (string | number)[][];
          const info = flatInfo(groups[0] ?? []);
          return {
            done: info.get('last-delivered-id') === lastId && info.get('pending') === '0',
            state: `${info.get('last-delivered-id')}/${info.get('pending')}`,
          };
        }),
      );
      if (states.every((s) => s.done)) break;
      const now = states.map((s) => s.state).join(',');
      if (now !== previous) {
        previous = now;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > 30_000) {
        throw new Error(`cluster ${variant}: no progress for 30 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const durationMs = performance.now() - t0;
    const redisCpu = (await clusterCpuMs(admin)) - cpu0;
    const done = await stopWorkers(children, n, 'cluster worker', `cluster ${variant}`);
    return {
      case: 'cluster-partitions',
      kind: 'scale',
      variant,
      status: 'ok',
      messages: n,
      durationMs,
      msgPerSec: (n / durationMs) * 1000,
      redisCpuMs: redisCpu,
      extra: {
        partitions: PARTITIONS,
        'concurrency/partition': CONCURRENCY,
        split: done.map((d) => d.calls).join(' / '),
      },
    };
  } finally {
    killWorkers(children);
    admin.disconnect();
    await cluster.stop();
  }
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  for (const { shards, processes } of VARIANTS) {
    try {
      rows.push(await runVariant(ctx, shards, processes));
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      rows.push({
        case: 'cluster-partitions',
        kind: 'scale',
        variant: `${shards} shards × ${processes}`,
        status: 'failed',
        note: message ?? 'unknown',
      });
    }
  }
  const base = rows[0]?.msgPerSec;
  if (base !== undefined) {
    for (const row of rows)
      if (row.msgPerSec !== undefined && row.extra)
        row.extra['vs 1×1'] = `${(row.msgPerSec / base).toFixed(2)}×`;
  }
  return rows;
}
