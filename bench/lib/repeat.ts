import type { Redis } from 'ioredis';
import { type DrainData, type DrainFigures, type DrainVariant, timeDrain } from './drain.js';
import { DrainStream } from './drain-stream.js';
import { median } from './stats.js';
import type { BenchContext, CaseRow, RowKind } from './types.js';

/** Fills the timed and warm-up streams for the drains of one case (`name` makes the keys unique). */
export async function fillDrainData(ctx: BenchContext, admin: Redis, name: string): Promise<DrainData> {
  ctx.log(`${name}: filling ${ctx.sizes.messages} + ${ctx.sizes.warmupMessages} entries`);
  return {
    timed: await DrainStream.fill(admin, `${ctx.keyPrefix}${name}`, ctx.sizes.messages),
    warmup: await DrainStream.fill(admin, `${ctx.keyPrefix}${name}:warmup`, ctx.sizes.warmupMessages),
  };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message.split('\n')[0] : String(error)) ?? 'unknown error';
}

/**
 * Runs `variants` interleaved: first one warm-up drain of each (`sizes.warmupMessages`, not
 * reported), then `reps` rounds that drain each variant once, always in the same order (a, b, c, …,
 * a, b, c, …), so slow drift of the machine's load spreads over every variant instead of landing on
 * one. One row per variant: msg/s and duration are the medians, `spread` the min and max of the
 * repetitions, `reps` every figure in run order (so ratios can be taken per repetition). A variant
 * whose warm-up or any repetition fails (e.g. messages left pending) is a failed row without a
 * figure, and is not run again.
 */
export async function runInterleaved(
  ctx: BenchContext,
  admin: Redis,
  data: DrainData,
  variants: readonly DrainVariant[],
  kind: RowKind,
  reps = ctx.reps,
): Promise<CaseRow[]> {
  const runs = new Map<DrainVariant, DrainFigures[]>(variants.map((v) => [v, []]));
  const failures = new Map<DrainVariant, string>();
  const label = (v: DrainVariant) => `${v.case} ${v.variant}`;
  for (const variant of variants) {
    try {
      ctx.log(`${label(variant)}: warm-up drain of ${data.warmup.messages}`);
      await timeDrain(ctx, variant, data.warmup, admin);
    } catch (error) {
      failures.set(variant, `warm-up: ${firstLine(error)}`);
      ctx.log(`${label(variant)}: FAILED in warm-up: ${firstLine(error)}`);
    }
  }
  for (let rep = 1; rep <= reps; rep++) {
    for (const variant of variants) {
      if (failures.has(variant)) continue;
      try {
        const figures = await timeDrain(ctx, variant, data.timed, admin);
        runs.get(variant)?.push(figures);
        ctx.log(
          `${label(variant)}: rep ${rep}/${reps}: ${Math.round(figures.msgPerSec)} msg/s ` +
            `(${Math.round(figures.durationMs)} ms)`,
        );
      } catch (error) {
        failures.set(variant, `rep ${rep}: ${firstLine(error)}`);
        ctx.log(`${label(variant)}: FAILED in rep ${rep}: ${firstLine(error)}`);
      }
    }
  }
  return variants.map((variant): CaseRow => {
    const failure = failures.get(variant);
    if (failure !== undefined)
      return { case: variant.case, kind, variant: variant.variant, status: 'failed', note: failure };
    const figures = runs.get(variant) ?? [];
    const rates = figures.map((f) => f.msgPerSec);
    return {
      case: variant.case,
      kind,
      variant: variant.variant,
      status: 'ok',
      messages: figures[0]?.messages ?? data.timed.messages,
      durationMs: median(figures.map((f) => f.durationMs)),
      msgPerSec: median(rates),
      spread: { min: Math.min(...rates), max: Math.max(...rates) },
      reps: { msgPerSec: rates, durationMs: figures.map((f) => f.durationMs) },
      nodeCpuPercent: median(figures.map((f) => f.nodeCpuPercent)),
      redisCpuMs: median(figures.map((f) => f.redisCpuMs)),
      extra: figures[figures.length - 1]?.extra ?? {},
    };
  });
}
