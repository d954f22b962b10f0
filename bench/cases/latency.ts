/**
 * Pickup latency (a, c) in one interleaved suite: the bare loop and streamvisor at concurrency 16 each
 * run once as a warm-up (a fifth of the duration, at least 1 s; untimed, but it must pass the same
 * checks), then are measured `--reps` times in rounds (baseline, streamvisor, then again), every run
 * its own 10 s at 1,000 msg/s on its own stream. A row's figures are the medians of its runs;
 * `latencyReps.p99Ms` holds every run's p99 in run order, so the target can ask every run, not only
 * the median. `--only` picks streamvisor by case id or tag; the baseline always runs (the target line
 * compares with it).
 */

import { median } from '../lib/stats.js';
import type { BenchContext, CaseRow } from '../lib/types.js';
import { measureBaseline } from './latency-baseline.js';
import { measureStreamvisor } from './latency-streamvisor.js';

interface LatencyVariant {
  case: string;
  tags: readonly string[];
  measure(ctx: BenchContext, rep: number): Promise<CaseRow>;
}

const BASELINE: LatencyVariant = {
  case: 'latency-baseline',
  tags: ['latency', 'baseline'],
  measure: measureBaseline,
};
const STREAMVISOR: LatencyVariant = {
  case: 'latency-streamvisor',
  tags: ['latency', 'streamvisor'],
  measure: measureStreamvisor,
};

export async function run(ctx: BenchContext): Promise<CaseRow[]> {
  const variants = [BASELINE, STREAMVISOR].filter(
    (v) =>
      v === BASELINE ||
      ctx.only.length === 0 ||
      ctx.only.some((name) => name === v.case || v.tags.includes(name)),
  );
  const runs = new Map<LatencyVariant, CaseRow[]>(variants.map((v) => [v, []]));
  const failed = new Map<LatencyVariant, string>();
  const warmup: BenchContext = {
    ...ctx,
    sizes: { ...ctx.sizes, latencyDurationMs: Math.max(1000, ctx.sizes.latencyDurationMs / 5) },
  };
  // Round -1 is the warm-up: its rows are dropped, its failures count.
  for (let rep = -1; rep < ctx.reps; rep++) {
    for (const variant of variants) {
      if (failed.has(variant)) continue;
      try {
        const row = await variant.measure(rep < 0 ? warmup : ctx, rep);
        if (rep >= 0) runs.get(variant)!.push(row);
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
        const run = rep < 0 ? 'the warm-up' : `rep ${rep + 1}`;
        failed.set(variant, `${run}: ${message ?? 'unknown error'}`);
        ctx.log(`${variant.case}: FAILED in ${run}: ${message}`);
      }
    }
  }
  return variants.map((variant) => {
    const note = failed.get(variant);
    if (note !== undefined)
      return { case: variant.case, kind: 'latency', variant: '', status: 'failed', note };
    return combine(runs.get(variant)!);
  });
}

/** One row from a variant's runs: the median of each figure, every run's p99, the largest max. */
function combine(rows: readonly CaseRow[]): CaseRow {
  const first = rows[0]!;
  const of = (pick: (l: NonNullable<CaseRow['latencyMs']>) => number): number[] =>
    rows.map((row) => pick(row.latencyMs!));
  const extra: Record<string, number | string | boolean> = {};
  for (const [key, value] of Object.entries(first.extra ?? {}))
    extra[key] = typeof value === 'number' ? median(rows.map((row) => Number(row.extra?.[key]))) : value;
  return {
    ...first,
    latencyMs: {
      p50: median(of((l) => l.p50)),
      p90: median(of((l) => l.p90)),
      p99: median(of((l) => l.p99)),
      max: Math.max(...of((l) => l.max)),
      mean: median(of((l) => l.mean)),
      samples: first.latencyMs!.samples,
    },
    latencyReps: { p99Ms: of((l) => l.p99) },
    extra,
  };
}
