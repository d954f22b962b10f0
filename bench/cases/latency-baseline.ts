/**
 * Pickup latency (a), the baseline: a producer XADDs at a steady rate (1,000 msg/s for 10 s) with
 * the publish time in the payload; the bare loop (`XREADGROUP COUNT 100 BLOCK 1000`, one XACK per
 * batch) records now − publish time right after parsing each payload.
 */

import { LatencyRecorder, paced, timedFields } from '../lib/pacer.js';
import { createGroup } from '../lib/redis.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { bareDrain } from './throughput-baseline.js';

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const stream = `${ctx.keyPrefix}lat-baseline`;
  const admin = ctx.connect();
  const reader = ctx.connect();
  const producer = ctx.connect();
  try {
    await createGroup(admin, stream, 'g', '$');
    const recorder = new LatencyRecorder(ctx.sizes);
    const draining = bareDrain(reader, stream, 'g', recorder.total, (payload) => {
      const { i, t } = payload as { i: number; t: number };
      recorder.record(i, t);
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the reader is now blocked in XREADGROUP
    ctx.log(`latency baseline: ${recorder.total} messages at ${ctx.sizes.latencyRate}/s`);
    await paced(recorder.total, ctx.sizes.latencyRate, (i) => {
      void producer.xadd(stream, '*', ...timedFields(i));
    });
    await draining;
    return [recorder.row('latency-baseline', 'COUNT 100 BLOCK')];
  } finally {
    producer.disconnect();
    reader.disconnect();
    admin.disconnect();
  }
}
