/**
 * Pickup latency (c), streamvisor: the same steady producer as (a); one consumer at concurrency 16
 * records now − publish time at handler start.
 */
import { LatencyRecorder, paced, timedFields } from '../lib/pacer.js';
import { createGroup } from '../lib/redis.js';
import { startStreamvisor } from '../lib/streamvisor-drain.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { waitUntil } from '../lib/wait.js';

const CONCURRENCY = 16;

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const stream = `${ctx.keyPrefix}lat-streamvisor`;
  const admin = ctx.connect();
  const producer = ctx.connect();
  const recorder = new LatencyRecorder(ctx.sizes);
  try {
    await createGroup(admin, stream, 'g', '$');
    const handle = await startStreamvisor(
      { url: ctx.redisUrl, stream, group: 'g', concurrency: CONCURRENCY },
      ({ i, t }) => recorder.record(i, t ?? Number.NaN),
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)); // the consumer is now polling
      ctx.log(`latency streamvisor: ${recorder.total} messages at ${ctx.sizes.latencyRate}/s`);
      await paced(recorder.total, ctx.sizes.latencyRate, (i) => {
        void producer.xadd(stream, '*', ...timedFields(i));
      });
      await waitUntil(() => recorder.count >= recorder.total, {
        progress: () => recorder.count,
        what: 'latency streamvisor',
      });
    } finally {
      await handle.stop();
    }
    return [recorder.row('latency-streamvisor', `concurrency ${CONCURRENCY}`)];
  } finally {
    producer.disconnect();
    admin.disconnect();
  }
}
