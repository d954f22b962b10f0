/**
 * Pickup latency (b), BullMQ: `queue.add` at a steady rate with the publish time in the job data;
 * one Worker (concurrency 1, then 50) records now − publish time at processor start. The producer
 * starts once the worker is blocked on its marker in Redis.
 */
import { Queue, Worker } from 'bullmq';
import { blockedClients, waitBlocked } from '../lib/blocked.js';
import { BULL_JOB_OPTIONS, bullConnection, bullPrefix } from '../lib/bullmq.js';
import { LatencyRecorder, paced } from '../lib/pacer.js';
import { BENCH_TYPE, payloadOf } from '../lib/redis.js';
import { nowMs } from '../lib/stats.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { waitUntil } from '../lib/wait.js';

const CONCURRENCIES = [1, 50] as const;

async function measure(ctx: BenchContext, concurrency: number): Promise<CaseRow> {
  const connection = bullConnection(ctx.redisUrl);
  const prefix = bullPrefix(ctx.keyPrefix);
  const name = `lat-c${concurrency}`;
  const queue = new Queue(name, { connection, prefix });
  const recorder = new LatencyRecorder(ctx.sizes);
  const worker = new Worker(
    name,
    async (job) => {
      const { i, t } = job.data as { i: number; t: number };
      recorder.record(i, t);
    },
    { connection, prefix, concurrency, autorun: false },
  );
  worker.on('error', (error) => ctx.log(`bullmq worker error: ${error.message}`));
  const admin = ctx.connect();
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    const blocked = await blockedClients(admin, 'bzpopmin');
    void worker.run();
    await waitBlocked(admin, 'bzpopmin', blocked + 1, `latency bullmq c${concurrency}`);
    ctx.log(`latency bullmq c${concurrency}: ${recorder.total} jobs at ${ctx.sizes.latencyRate}/s`);
    await paced(recorder.total, ctx.sizes.latencyRate, (i) => {
      const data = JSON.parse(payloadOf(i)) as Record<string, unknown>;
      data.t = nowMs();
      void queue.add(BENCH_TYPE, data, BULL_JOB_OPTIONS);
    });
    await waitUntil(() => recorder.count >= recorder.total, {
      progress: () => recorder.count,
      what: `latency bullmq c${concurrency}`,
    });
    return recorder.row('latency-bullmq', `concurrency ${concurrency}`);
  } finally {
    await worker.close();
    await queue.close();
    admin.disconnect();
  }
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  for (const concurrency of CONCURRENCIES) rows.push(await measure(ctx, concurrency));
  return rows;
}
