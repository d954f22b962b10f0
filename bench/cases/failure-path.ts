/**
 * Failure path: the concurrency-16 drain where every tenth message (payload.i % 10 === 0) throws on
 * its first run and succeeds on retry (`retry: { attempts: 3, backoff: 1 ms }`). Started and
 * stopped like every stream drain (one warm-up, then one timed drain: its figure is context, the
 * check is the count). Handler calls must be exactly messages + ⌈messages / 10⌉ (1.1×) in every
 * drain: one more means a handler that succeeded ran again, one fewer means a retry was lost.
 */
import { fillDrainData, runInterleaved } from '../lib/repeat.js';
import { svVariant } from '../lib/streamvisor-throughput.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const variant = svVariant({
    caseId: 'failure-path',
    variant: '10% fail once',
    concurrency: 16,
    retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 1 } },
    handler: () => {
      const failedOnce = new Set<number>();
      return ({ i }) => {
        if (i % 10 === 0 && !failedOnce.has(i)) {
          failedOnce.add(i);
          throw new Error(`planned failure of message ${i}`);
        }
      };
    },
    onCalls: (calls, messages) => {
      const expected = messages + Math.ceil(messages / 10);
      if (calls !== expected)
        throw new Error(
          `failure-path: ${calls} handler calls, expected ${expected} (off by ${calls - expected})`,
        );
    },
  });
  const admin = ctx.connect();
  try {
    const data = await fillDrainData(ctx, admin, 'failure');
    const rows = await runInterleaved(ctx, admin, data, [variant], 'failure', 1);
    return rows.map((row) =>
      row.status === 'ok'
        ? {
            ...row,
            note: 'calls exact',
            extra: {
              ...row.extra,
              'expected calls': data.timed.messages + Math.ceil(data.timed.messages / 10),
            },
          }
        : row,
    );
  } finally {
    admin.disconnect();
  }
}
