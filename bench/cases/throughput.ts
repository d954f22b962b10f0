/**
 * Throughput (a, b, c) in one interleaved suite: the bare loop, BullMQ and streamvisor drain the
 * same messages, each variant first once as a warm-up and then `--reps` times in rounds
 * (baseline, pipelined baseline, BullMQ c50, streamvisor c16, streamvisor defaults, …, then again
 * in the same order).
 * Every drain starts when its consumer is blocked on an empty group (or BullMQ's worker on a paused
 * queue) and stops when Redis has nothing pending (bench/lib/drain-stream.ts, throughput-bullmq.ts).
 * `--only` picks variants by case id or tag; both baselines always run, every ratio and target
 * needs one of them.
 */

import type { DrainVariant } from '../lib/drain.js';
import { fillDrainData, runInterleaved } from '../lib/repeat.js';
import { svVariant } from '../lib/streamvisor-throughput.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { baselineVariant } from './throughput-baseline.js';
import { pipelinedBaselineVariant } from './throughput-baseline-pipelined.js';
import { bullmqVariant } from './throughput-bullmq.js';

const SV = 'throughput-streamvisor';

/** The floors every ratio and target is taken against: they run whatever else `--only` picks. */
const BASELINES: readonly DrainVariant[] = [baselineVariant, pipelinedBaselineVariant];

/** Every throughput variant, in the order of a round. */
export function throughputVariants(extended: boolean): DrainVariant[] {
  return [
    baselineVariant,
    pipelinedBaselineVariant,
    bullmqVariant(50),
    svVariant({ caseId: SV, variant: 'concurrency 16', concurrency: 16 }),
    svVariant({ caseId: SV, variant: 'defaults' }),
    svVariant({ caseId: SV, variant: 'concurrency 16 prefetch 48', concurrency: 16, prefetch: 48 }),
    ...(extended
      ? [
          svVariant({ caseId: SV, variant: 'concurrency 64', concurrency: 64 }),
          bullmqVariant(1),
          svVariant({ caseId: SV, variant: 'concurrency 1', concurrency: 1 }),
        ]
      : []),
  ];
}

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const all = ctx.only.length === 0 || ctx.only.includes('throughput');
  const variants = throughputVariants(ctx.extended).filter(
    (v) => BASELINES.includes(v) || all || ctx.only.some((name) => name === v.case || v.tags.includes(name)),
  );
  const admin = ctx.connect();
  try {
    const data = await fillDrainData(ctx, admin, 'throughput');
    return await runInterleaved(ctx, admin, data, variants, 'throughput');
  } finally {
    admin.disconnect();
  }
}
