import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bareVariant } from '../../bench/cases/throughput-baseline.js';
import { pipelinedBaselineVariant, pipelinedDrain } from '../../bench/cases/throughput-baseline-pipelined.js';
import { timeDrain } from '../../bench/lib/drain.js';
import { DrainStream } from '../../bench/lib/drain-stream.js';
import { connect, createGroup, fillStream } from '../../bench/lib/redis.js';
import type { BenchContext } from '../../bench/lib/types.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// The bench's second floor (a2): a bare loop that reads COUNT 1000 and pipelines each batch's XACK
// with the next read. Checked on the shared Redis (unique keys) so its row can be trusted.

const prefix = uniquePrefix();
const clients: Redis[] = [];

function client(): Redis {
  const redis = connect(sharedRedisUrl());
  clients.push(redis);
  return redis;
}

function context(): BenchContext {
  return {
    redisUrl: sharedRedisUrl(),
    keyPrefix: `${prefix}:`,
    sizes: {
      messages: 2_500,
      warmupMessages: 1_000,
      latencyRate: 1_000,
      latencyDurationMs: 1_000,
      latencyWarmup: 0,
      memoryMessages: 0,
      memoryWarmup: 0,
    },
    reps: 3,
    only: [],
    sabotage: undefined,
    extended: false,
    rows: [],
    connect: client,
    log: () => {},
  };
}

afterEach(async () => {
  for (const redis of clients.splice(0)) redis.disconnect();
  await cleanupKeys(prefix);
});

describe('the pipelined bare loop (throughput-baseline-pipelined)', () => {
  it('reads 1000 at a time, sends each XACK in one pipeline with the next read, and leaves nothing pending', async () => {
    const admin = client();
    const reader = client();
    const stream = `${prefix}:pipelined`;
    await fillStream(admin, stream, 2_500);
    await createGroup(admin, stream, 'g', '0');
    const pipelines = vi.spyOn(reader, 'pipeline');
    const acks = vi.spyOn(reader, 'xack');
    const seen: number[] = [];

    await pipelinedDrain(reader, stream, 'g', 2_500, ({ i }) => seen.push(i));

    expect(seen).toEqual(Array.from({ length: 2_500 }, (_, i) => i));
    // Batches of 1000, 1000, 500: two pipelines (XACK n + XREADGROUP n+1), then the last XACK alone.
    expect(pipelines).toHaveBeenCalledTimes(2);
    expect(acks).toHaveBeenCalledTimes(1);
    expect(acks.mock.calls[0]).toHaveLength(2 + 500);
    expect(await admin.xpending(stream, 'g')).toEqual([0, null, null, null]);
  });

  it('times a drain through the same start, stop and checks as every stream drain', async () => {
    const admin = client();
    const stream = await DrainStream.fill(admin, `${prefix}:drain`, 2_500);

    const figures = await timeDrain(context(), pipelinedBaselineVariant, stream, admin);

    expect(figures.messages).toBe(2_500);
    expect(figures.msgPerSec).toBeGreaterThan(0);
  });

  it('a loop that leaves its last batch unacked fails the drain instead of giving a figure', async () => {
    const admin = client();
    const stream = await DrainStream.fill(admin, `${prefix}:broken`, 1_500);
    const unacked = bareVariant({
      case: 'throughput-baseline-pipelined',
      variant: 'last XACK dropped',
      drain: (redis, key, group, total, onPayload) => {
        // The XACKs inside the pipelines go through; the last batch's own XACK is lost.
        vi.spyOn(redis, 'xack').mockResolvedValue(0);
        return pipelinedDrain(redis, key, group, total, onPayload);
      },
    });

    await expect(timeDrain(context(), unacked, stream, admin)).rejects.toThrow(
      /500 left pending in Redis 5000 ms after every message was handled/,
    );
  });
});
