/**
 * Throughput (b), BullMQ: the same number of jobs (same JSON payload as job data) pre-filled with
 * `addBulk`, drained by one Worker at concurrency 1 and at concurrency 50. The clock stops at the
 * last `completed` event, i.e. after BullMQ has moved the last job to finished.
 */
import { Queue, Worker } from 'bullmq';
import { BULL_JOB_OPTIONS, bullConnection, bullPrefix } from '../lib/bullmq.js';
import { BENCH_TYPE, payloadOf, redisCpuMs } from '../lib/redis.js';
import { cpuMeter } from '../lib/stats.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { waitUntil } from '../lib/wait.js';

const CONCURRENCIES = [1, 50] as const;

/** Adds `count` jobs in `addBulk` chunks of 1,000. */
export async function fillQueue(queue: Queue, count: number): Promise<void> {
  for (let start = 0; start < count; start += 1_000) {
    const end = Math.min(count, start + 1_000);
    const jobs = [];
    for (let k = start; k < end; k++) {
      jobs.push({ name: BENCH_TYPE, data: JSON.parse(payloadOf(k)) as unknown, opts: BULL_JOB_OPTIONS });
    }
    await queue.addBulk(jobs);
  }
}

async function drainOnce(ctx: BenchContext, concurrency: number): Promise<CaseRow> {
  const n = ctx.sizes.messages;
  const connection = bullConnection(ctx.redisUrl);
  const prefix = bullPrefix(ctx.keyPrefix);
  const name = `tp-c${concurrency}`;
  const queue = new Queue(name, { connection, prefix });
  const admin = ctx.connect();
  let worker: Worker | undefined;
  try {
    ctx.log(`bullmq c${concurrency}: adding ${n} jobs`);
    await fillQueue(queue, n);
    let checksum = 0;
    let completed = 0;
    worker = new Worker(
      name,
      async (job) => {
        checksum += (job.data as { i: number }).i;
      },
      { connection, prefix, concurrency, autorun: false },
    );
    worker.on('completed', () => {
      completed++;
    });
    worker.on('error', (error) => ctx.log(`bullmq worker error: ${error.message}`));
    await worker.waitUntilReady();
    const redis0 = await redisCpuMs(admin);
    const cpu = cpuMeter();
    const t0 = performance.now();
    void worker.run();
    await waitUntil(() => completed >= n, { progress: () => completed, what: `bullmq c${concurrency}` });
    const durationMs = performance.now() - t0;
    const nodeCpuPercent = cpu.stop();
    const redisCpu = (await redisCpuMs(admin)) - redis0;
    if (checksum !== (n * (n - 1)) / 2) throw new Error(`bullmq read wrong payloads (checksum ${checksum})`);
    return {
      case: 'throughput-bullmq',
      kind: 'throughput',
      variant: `concurrency ${concurrency}`,
      status: 'ok',
      messages: n,
      durationMs,
      msgPerSec: (n / durationMs) * 1000,
      nodeCpuPercent,
      redisCpuMs: redisCpu,
      note: 'removeOnComplete',
    };
  } finally {
    await worker?.close();
    await queue.close();
    admin.disconnect();
  }
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  for (const concurrency of CONCURRENCIES) rows.push(await drainOnce(ctx, concurrency));
  return rows;
}
