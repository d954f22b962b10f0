import { createGroup, fillStream, redisCpuMs } from './redis.js';
import { cpuMeter } from './stats.js';
import { type BenchRuntime, startStreamvisor, waitProcessed } from './streamvisor-drain.js';
import type { BenchContext, CaseRow, RowKind } from './types.js';

/** Makes every drain's stream name unique, even for two drains within one case. */
let drains = 0;

/** Options of one pre-filled drain through one streamvisor consumer. */
export interface SvDrainOptions {
  caseId: string;
  kind: RowKind;
  variant: string;
  concurrency: number;
  prefetch?: number;
  /** The handler may throw to exercise retries. */
  onPayload?: (payload: { i: number }) => void;
  retry?: { attempts: number; backoff: { initialMs: number; maxMs: number } };
  beforeStart?: (runtime: BenchRuntime) => Promise<() => Promise<void>>;
}

/**
 * Pre-fills `ctx.sizes.messages` entries, creates the group at 0, then times `start()` → the
 * consumer reporting every message processed (acked). Verifies every payload was read once.
 */
export async function svDrain(ctx: BenchContext, options: SvDrainOptions): Promise<CaseRow> {
  const n = ctx.sizes.messages;
  const stream = `${ctx.keyPrefix}${options.caseId}-c${options.concurrency}-p${options.prefetch ?? 0}-${++drains}`;
  const admin = ctx.connect();
  try {
    await createGroup(admin, stream, 'g');
    ctx.log(`${options.caseId} ${options.variant}: filling ${n} entries`);
    await fillStream(admin, stream, n);
    const seen = new Uint8Array(n);
    let distinct = 0;
    const redis0 = await redisCpuMs(admin);
    const cpu = cpuMeter();
    const t0 = performance.now();
    const handle = await startStreamvisor(
      {
        url: ctx.redisUrl,
        stream,
        group: 'g',
        concurrency: options.concurrency,
        ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
        ...(options.retry === undefined ? {} : { retry: options.retry }),
      },
      (payload) => {
        options.onPayload?.(payload);
        if (seen[payload.i] === 0) {
          seen[payload.i] = 1;
          distinct++;
        }
      },
      options.beforeStart,
    );
    let durationMs: number;
    let nodeCpuPercent: number;
    let redisCpu: number;
    try {
      await waitProcessed(handle, n, `${options.caseId} ${options.variant}`);
      durationMs = performance.now() - t0;
      nodeCpuPercent = cpu.stop();
      redisCpu = (await redisCpuMs(admin)) - redis0;
    } finally {
      await handle.stop();
    }
    if (distinct !== n) throw new Error(`${options.caseId}: handler saw ${distinct} of ${n} messages`);
    const pending = (await admin.xpending(stream, 'g')) as [number, ...unknown[]];
    const consumer = handle.runtime.snapshot().consumers[0];
    return {
      case: options.caseId,
      kind: options.kind,
      variant: options.variant,
      status: 'ok',
      messages: n,
      durationMs,
      msgPerSec: (n / durationMs) * 1000,
      nodeCpuPercent,
      redisCpuMs: redisCpu,
      extra: {
        'handler calls': handle.calls(),
        ...(pending[0] === 0 ? {} : { 'left pending': pending[0] }),
        ...(consumer !== undefined && consumer.failed > 0 ? { failed: consumer.failed } : {}),
        ...(consumer !== undefined && consumer.deadLettered > 0
          ? { 'dead-lettered': consumer.deadLettered }
          : {}),
      },
    };
  } finally {
    admin.disconnect();
  }
}
