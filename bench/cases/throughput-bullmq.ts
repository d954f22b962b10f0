/**
 * Throughput (b), BullMQ: a quarter as many jobs as the streams' entries (same JSON payload as job
 * data, `removeOnComplete`; see BULLMQ_SHARE) drained by one Worker. Started like the stream drains: the jobs are added to a paused queue, the
 * worker runs and blocks on its marker (`BZPOPMIN`), and the clock starts with `queue.resume()` (the
 * equivalent of the rewind). It stops when Redis counts no job waiting, active, delayed, prioritized
 * or waiting for children, and the worker has reported every job completed (with
 * `removeOnComplete` the completed set stays empty, so that count is the worker's). A failed job
 * fails the case.
 */
import { Queue, Worker } from 'bullmq';
import { blockedClients, waitBlocked } from '../lib/blocked.js';
import { BULL_JOB_OPTIONS, bullConnection, bullPrefix } from '../lib/bullmq.js';
import type { DrainVariant, PreparedDrain } from '../lib/drain.js';
import { BENCH_TYPE, payloadOf } from '../lib/redis.js';
import { waitSettled } from '../lib/settle.js';

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

let queues = 0;

/**
 * BullMQ drains a quarter as many jobs as the streams have entries: it is 10–20× slower, and a full
 * size drain (200,000 jobs, a minute or more on a shared 2-core box, plus as long to add them) three
 * times over would push the run past ten minutes. Its rate is steady over a drain, so msg/s compare.
 */
export const BULLMQ_SHARE = 0.25;

const UNFINISHED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/** One Worker at `concurrency`. */
export function bullmqVariant(concurrency: number): DrainVariant {
  const what = `bullmq c${concurrency}`;
  return {
    case: 'throughput-bullmq',
    variant: `concurrency ${concurrency}`,
    tags: ['throughput', 'bullmq'],
    async prepare(ctx, stream, admin): Promise<PreparedDrain> {
      const n = Math.max(1_000, Math.round(stream.messages * BULLMQ_SHARE));
      const connection = bullConnection(ctx.redisUrl);
      const prefix = bullPrefix(ctx.keyPrefix);
      const name = `tp-c${concurrency}-${++queues}`;
      const queue = new Queue(name, { connection, prefix });
      await queue.pause();
      await fillQueue(queue, n);
      const seen = new Uint8Array(n);
      let distinct = 0;
      let completed = 0;
      let failed = 0;
      const worker = new Worker(
        name,
        async (job) => {
          const { i } = job.data as { i: number };
          if (seen[i] === 0) {
            seen[i] = 1;
            distinct++;
          }
        },
        { connection, prefix, concurrency, autorun: false },
      );
      worker.on('completed', () => {
        completed++;
      });
      worker.on('failed', () => {
        failed++;
      });
      worker.on('error', (error) => ctx.log(`bullmq worker error: ${error.message}`));
      await worker.waitUntilReady();
      const blocked = await blockedClients(admin, 'bzpopmin');
      void worker.run();
      await waitBlocked(admin, 'bzpopmin', blocked + 1, what);
      return {
        messages: n,
        release: () => queue.resume(),
        settled: () =>
          waitSettled({
            expected: n,
            handled: () => completed + failed,
            what,
            query: async () => {
              const counts = await queue.getJobCounts(...UNFINISHED);
              const pending = Object.values(counts).reduce((sum, count) => sum + count, 0);
              return {
                done: pending === 0 && completed + failed >= n,
                pending,
                state: `${pending}/${completed}/${failed}`,
              };
            },
          }),
        async verify() {
          if (failed > 0 || distinct !== n || completed !== n)
            throw new Error(
              `${what}: ${completed} completed, ${failed} failed, ${distinct} distinct of ${n}`,
            );
          return {};
        },
        async close() {
          await worker.close();
          await queue.obliterate({ force: true });
          await queue.close();
        },
      };
    },
  };
}
