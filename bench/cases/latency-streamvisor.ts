/**
 * Pickup latency (c), streamvisor: the same steady producer as (a); one consumer at concurrency 16
 * records now − publish time at handler start. The producer starts once the consumer is blocked in
 * Redis; entries left pending at the end fail the case. One run; the latency suite (latency.ts)
 * interleaves the repetitions.
 */
import { blockedClients, waitBlocked } from '../lib/blocked.js';
import { GcWindow } from '../lib/gc-window.js';
import { LatencyRecorder, paced, timedFields } from '../lib/pacer.js';
import { createGroup, expectNothingPending } from '../lib/redis.js';
import { startStreamvisor } from '../lib/streamvisor-drain.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { waitUntil } from '../lib/wait.js';

const CONCURRENCY = 16;

export async function measureStreamvisor(ctx: BenchContext, rep: number): Promise<CaseRow> {
  const stream = `${ctx.keyPrefix}lat-streamvisor:${rep + 1}`;
  const admin = ctx.connect();
  const producer = ctx.connect();
  const recorder = new LatencyRecorder(ctx.sizes);
  const gc = new GcWindow();
  let collections: Record<string, number> = {};
  try {
    await createGroup(admin, stream, 'g', '$');
    const blocked = await blockedClients(admin, 'xreadgroup');
    const handle = await startStreamvisor(
      {
        url: ctx.redisUrl,
        stream,
        group: 'g',
        concurrency: CONCURRENCY,
        dropAcks: ctx.sabotage === 'drop-acks',
      },
      ({ i, t }) => recorder.record(i, t ?? Number.NaN),
    );
    try {
      await waitBlocked(admin, 'xreadgroup', blocked + 1, 'latency streamvisor');
      ctx.log(
        `latency streamvisor, ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}: ${recorder.total} messages at ${ctx.sizes.latencyRate}/s`,
      );
      await paced(
        recorder.total,
        ctx.sizes.latencyRate,
        (i) => void producer.xadd(stream, '*', ...timedFields(i)),
        () => gc.start(),
      );
      await waitUntil(() => recorder.count >= recorder.total, {
        progress: () => recorder.count,
        what: 'latency streamvisor',
      });
      collections = gc.stop();
      await expectNothingPending(admin, stream, 'g', 'latency streamvisor');
    } finally {
      await handle.stop();
    }
    return recorder.row('latency-streamvisor', `concurrency ${CONCURRENCY}`, collections);
  } finally {
    producer.disconnect();
    admin.disconnect();
  }
}
