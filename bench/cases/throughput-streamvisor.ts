/**
 * Throughput (c), streamvisor: the same pre-filled drain through one consumer at concurrency 1, 16
 * and 64 (default prefetch 0), and at concurrency 16 with prefetch 48 (reads of 64), with a handler
 * that only reads the payload. Timed from `runtime.start()` to the consumer
 * reporting the last message processed; `stop()` is outside the window.
 */
import { svDrain } from '../lib/streamvisor-throughput.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

const VARIANTS = [
  { concurrency: 1, prefetch: 0 },
  { concurrency: 16, prefetch: 0 },
  { concurrency: 64, prefetch: 0 },
  { concurrency: 16, prefetch: 48 },
] as const;

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  for (const { concurrency, prefetch } of VARIANTS) {
    rows.push(
      await svDrain(ctx, {
        caseId: 'throughput-streamvisor',
        kind: 'throughput',
        variant:
          prefetch === 0 ? `concurrency ${concurrency}` : `concurrency ${concurrency} prefetch ${prefetch}`,
        concurrency,
        ...(prefetch === 0 ? {} : { prefetch }),
      }),
    );
  }
  return rows;
}
