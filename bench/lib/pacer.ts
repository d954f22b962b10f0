import { BENCH_TYPE, payloadOf } from './redis.js';
import { nowMs, summarize } from './stats.js';
import type { BenchSizes, CaseRow } from './types.js';
import { settleHeap } from './wait.js';

/**
 * Calls `publish(i)` for i = 0 … total-1 at a steady `rate` per second: a 1 ms timer tick publishes
 * every message that is due by then (so a late tick catches up instead of drifting). The caller
 * stamps the publish time itself, right before the command is sent.
 *
 * Starts from a collected heap (when `global.gc` is exposed, as under `npm run bench`): the cases
 * before it leave garbage whose collection would otherwise land in this case's window. `onStart`
 * runs after that, right before the first message (to start a `GcWindow`).
 */
export async function paced(
  total: number,
  rate: number,
  publish: (i: number) => void,
  onStart?: () => void,
): Promise<void> {
  if (typeof (globalThis as { gc?: unknown }).gc === 'function') await settleHeap();
  onStart?.();
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) publish(sent++);
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
}

/** A bench payload with the publish time `t` (ms since epoch, sub-ms) added. */
export function timedPayload(i: number, t: number): string {
  return `${payloadOf(i).slice(0, -1)},"t":${t}}`;
}

/** The entry fields of a timed message. */
export function timedFields(i: number): string[] {
  return ['type', BENCH_TYPE, 'payload', timedPayload(i, nowMs())];
}

/**
 * Collects pickup latencies (handler start − publish) by message index, and turns them into a row
 * once every message has arrived; the first `sizes.latencyWarmup` are dropped.
 */
export class LatencyRecorder {
  readonly total: number;
  readonly #samples: Float64Array;
  readonly #seen: Uint8Array;
  #count = 0;
  #duplicates = 0;

  constructor(readonly sizes: BenchSizes) {
    this.total = Math.round((sizes.latencyRate * sizes.latencyDurationMs) / 1000);
    this.#samples = new Float64Array(this.total);
    this.#seen = new Uint8Array(this.total);
  }

  /** Call at handler start with the payload's `i` and `t`. */
  record(i: number, t: number): void {
    const latency = nowMs() - t;
    if (this.#seen[i] === 1) {
      this.#duplicates++;
      return;
    }
    this.#seen[i] = 1;
    this.#samples[i] = latency;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  row(caseId: string, variant: string, extra: Record<string, number | string | boolean> = {}): CaseRow {
    const kept = Array.from(this.#samples.subarray(Math.min(this.sizes.latencyWarmup, this.total)));
    return {
      case: caseId,
      kind: 'latency',
      variant,
      status: 'ok',
      messages: this.total,
      latencyMs: summarize(kept),
      extra: {
        rate: this.sizes.latencyRate,
        ...(this.#duplicates > 0 ? { duplicates: this.#duplicates } : {}),
        ...extra,
      },
    };
  }
}
