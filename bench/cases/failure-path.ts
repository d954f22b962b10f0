/**
 * Failure path: the throughput drain at concurrency 16 where every tenth message (payload.i % 10
 * === 0) throws on its first run and succeeds on retry (`retry: { attempts: 3, backoff: 1 ms }`).
 * Reports msg/s and handler calls, which must be exactly messages + ⌈messages / 10⌉ (1.1×): one
 * more means a handler that succeeded ran again, one fewer means a retry was lost.
 */
import { svDrain } from '../lib/streamvisor-throughput.js';
import type { BenchContext, CaseRow } from '../lib/types.js';

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const n = ctx.sizes.messages;
  const failedOnce = new Uint8Array(n);
  const row = await svDrain(ctx, {
    caseId: 'failure-path',
    kind: 'failure',
    variant: '10% fail once',
    concurrency: 16,
    retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 1 } },
    onPayload: ({ i }) => {
      if (i % 10 === 0 && failedOnce[i] === 0) {
        failedOnce[i] = 1;
        throw new Error(`planned failure of message ${i}`);
      }
    },
  });
  const expected = n + Math.ceil(n / 10);
  const calls = Number(row.extra?.['handler calls']);
  return [
    {
      ...row,
      extra: { ...row.extra, 'expected calls': expected },
      note: calls === expected ? 'calls exact' : `calls off by ${calls - expected}`,
    },
  ];
}
