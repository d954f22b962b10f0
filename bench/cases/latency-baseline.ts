/**
 * Pickup latency (a), the baseline: a producer XADDs at a steady rate (1,000 msg/s for 10 s) with
 * the publish time in the payload; the bare loop (`XREADGROUP COUNT 100 BLOCK 1000`, one XACK per
 * batch) records now − publish time right after parsing each payload. The producer starts once the
 * reader is blocked in Redis; entries left pending at the end fail the case. One run; the latency
 * suite (latency.ts) interleaves the repetitions.
 */

import { blockedClients, waitBlocked } from '../lib/blocked.js';
import { GcWindow } from '../lib/gc-window.js';
import { LatencyRecorder, paced, timedFields } from '../lib/pacer.js';
import { createGroup, expectNothingPending } from '../lib/redis.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { bareDrain } from './throughput-baseline.js';

export async function measureBaseline(ctx: BenchContext, rep: number): Promise<CaseRow> {
  const stream = `${ctx.keyPrefix}lat-baseline:${rep + 1}`;
  const admin = ctx.connect();
  const reader = ctx.connect();
  const producer = ctx.connect();
  try {
    await createGroup(admin, stream, 'g', '$');
    const recorder = new LatencyRecorder(ctx.sizes);
    const blocked = await blockedClients(admin, 'xreadgroup');
    const draining = bareDrain(reader, stream, 'g', recorder.total, (payload) => {
      const { i, t } = payload as { i: number; t: number };
      recorder.record(i, t);
    });
    await waitBlocked(admin, 'xreadgroup', blocked + 1, 'latency baseline');
    ctx.log(
      `latency baseline, ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}: ${recorder.total} messages at ${ctx.sizes.latencyRate}/s`,
    );
    const gc = new GcWindow();
    await paced(
      recorder.total,
      ctx.sizes.latencyRate,
      (i) => void producer.xadd(stream, '*', ...timedFields(i)),
      () => gc.start(),
    );
    await draining;
    const collections = gc.stop();
    await expectNothingPending(admin, stream, 'g', 'latency baseline');
    return recorder.row('latency-baseline', 'COUNT 100 BLOCK', collections);
  } finally {
    producer.disconnect();
    reader.disconnect();
    admin.disconnect();
  }
}
