/**
 * Memory: 1,000,000 messages through one streamvisor consumer (concurrency 16). Heap and RSS are
 * read after a warm-up of 100,000 messages and at the end, each time with the consumer idle and
 * after forced GC; the growth between them is what the runtime retains per message (target ≤ 10 MB).
 * The stream is filled in segments and trimmed behind the consumer so Redis stays small; every
 * segment must end with nothing pending in Redis, or the case fails.
 */
import type { Redis } from 'ioredis';
import { createGroup, expectNothingPending, fillStream } from '../lib/redis.js';
import { type SvHandle, startStreamvisor, waitProcessed } from '../lib/streamvisor-drain.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { settleHeap } from '../lib/wait.js';

const MB = 2 ** 20;

async function idleReading(): Promise<{ heap: number; rss: number }> {
  // Let the last ack flush and the consumer go back to its blocking read before measuring.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await settleHeap();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed / MB, rss: usage.rss / MB };
}

async function feed(
  admin: Redis,
  handle: SvHandle,
  stream: string,
  from: number,
  to: number,
  segment: number,
): Promise<void> {
  for (let start = from; start < to; start += segment) {
    const count = Math.min(segment, to - start);
    const lastId = await fillStream(admin, stream, count, { from: start });
    await waitProcessed(handle, start + count, 'memory-streamvisor');
    await expectNothingPending(admin, stream, 'g', 'memory-streamvisor');
    await admin.xtrim(stream, 'MINID', lastId);
  }
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const total = ctx.sizes.memoryMessages;
  const warmup = ctx.sizes.memoryWarmup;
  const segment = Math.max(1_000, Math.floor(total / 10));
  const stream = `${ctx.keyPrefix}memory`;
  const admin = ctx.connect();
  try {
    await createGroup(admin, stream, 'g');
    let checksum = 0;
    const handle = await startStreamvisor(
      {
        url: ctx.redisUrl,
        stream,
        group: 'g',
        concurrency: 16,
        dropAcks: ctx.sabotage === 'drop-acks',
      },
      ({ i }) => {
        checksum += i;
      },
    );
    let warm: { heap: number; rss: number };
    let end: { heap: number; rss: number };
    const t0 = performance.now();
    try {
      ctx.log(`memory: warm-up with ${warmup} messages`);
      await feed(admin, handle, stream, 0, warmup, segment);
      warm = await idleReading();
      ctx.log(`memory: ${total - warmup} more messages`);
      await feed(admin, handle, stream, warmup, total, segment);
      end = await idleReading();
    } finally {
      await handle.stop();
    }
    const durationMs = performance.now() - t0;
    if (checksum !== (total * (total - 1)) / 2)
      throw new Error(`memory case read wrong payloads (checksum ${checksum})`);
    return [
      {
        case: 'memory-streamvisor',
        kind: 'memory',
        variant: 'concurrency 16',
        status: 'ok',
        messages: total,
        durationMs,
        memory: {
          heapWarmMB: warm.heap,
          heapEndMB: end.heap,
          heapGrowthMB: end.heap - warm.heap,
          rssWarmMB: warm.rss,
          rssEndMB: end.rss,
          rssGrowthMB: end.rss - warm.rss,
        },
        extra: { 'warm-up msgs': warmup, 'handler calls': handle.calls() },
      },
    ];
  } finally {
    admin.disconnect();
  }
}
