import type { Redis } from 'ioredis';
import type { DrainStream } from './drain-stream.js';
import { redisCpuMs } from './redis.js';
import { cpuMeter } from './stats.js';
import type { BenchContext } from './types.js';
import { settleHeap } from './wait.js';

/** Data shared by the drains of one run: the pre-filled streams for timed and warm-up drains. */
export interface DrainData {
  /** `sizes.messages` entries (see DrainStream). */
  timed: DrainStream;
  /** `sizes.warmupMessages` entries, for the warm-up drain of each variant. */
  warmup: DrainStream;
}

/** A drain that is set up up to "ready": data in place but not visible, consumer blocked in Redis. */
export interface PreparedDrain {
  /** Messages (or jobs) this drain moves. */
  messages: number;
  /** Makes all the data visible; the clock has started just before. */
  release(): Promise<void>;
  /** Resolves when Redis says every message is delivered and acked (see waitSettled); the clock stops. */
  settled(): Promise<void>;
  /** After the clock: stops the consumer, checks what its handler saw; returns figures for the row. */
  verify(): Promise<Record<string, number | string | boolean>>;
  /** Always called last: stops whatever is still running, removes the drain's keys. */
  close(): Promise<void>;
}

/** One throughput variant (a row of the table), drained several times. */
export interface DrainVariant {
  /** Case id, e.g. `throughput-streamvisor`. */
  case: string;
  variant: string;
  /** Names `--only` matches besides the case id. */
  tags: readonly string[];
  /** Sets up a drain of `stream.messages` messages (or as many jobs) up to "ready". */
  prepare(ctx: BenchContext, stream: DrainStream, admin: Redis): Promise<PreparedDrain>;
}

/** The figures of one timed drain. */
export interface DrainFigures {
  messages: number;
  durationMs: number;
  msgPerSec: number;
  nodeCpuPercent: number;
  redisCpuMs: number;
  extra: Record<string, number | string | boolean>;
}

/**
 * Runs one drain of `variant` over `stream`: prepare (untimed), start the clock, release, wait for
 * Redis to settle, stop the clock, verify (untimed). Throws if the drain did not settle or the
 * handler saw the wrong messages: the caller turns that into a failed row, never a number.
 */
export async function timeDrain(
  ctx: BenchContext,
  variant: DrainVariant,
  stream: DrainStream,
  admin: Redis,
): Promise<DrainFigures> {
  const drain = await variant.prepare(ctx, stream, admin);
  try {
    // Every drain starts from a collected heap: no GC debt of its setup inside the window. (run.ts
    // always has --expose-gc; bench/profile.ts may not.)
    if (typeof (globalThis as { gc?: unknown }).gc === 'function') await settleHeap();
    const redis0 = await redisCpuMs(admin);
    const cpu = cpuMeter();
    const t0 = performance.now();
    await drain.release();
    await drain.settled();
    const durationMs = performance.now() - t0;
    const nodeCpuPercent = cpu.stop();
    const redisCpu = (await redisCpuMs(admin)) - redis0;
    const extra = await drain.verify();
    return {
      messages: drain.messages,
      durationMs,
      msgPerSec: (drain.messages / durationMs) * 1000,
      nodeCpuPercent,
      redisCpuMs: redisCpu,
      extra,
    };
  } finally {
    await drain.close();
  }
}
