/**
 * Throughput (c), streamvisor: the same pre-filled drain through one consumer at concurrency 1, 16
 * and 64, with a handler that only reads the payload. Timed from `runtime.start()` to the consumer
 * reporting the last message processed; `stop()` is outside the window.
 */
import { svDrain } from '../lib/streamvisor-throughput.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

const CONCURRENCIES = [1, 16, 64] as const;

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  for (const concurrency of CONCURRENCIES) {
    rows.push(
      await svDrain(ctx, {
        caseId: 'throughput-streamvisor',
        kind: 'throughput',
        variant: `concurrency ${concurrency}`,
        concurrency,
      }),
    );
  }
  return rows;
}
