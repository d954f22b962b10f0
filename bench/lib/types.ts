import type { Redis } from 'ioredis';

/** Which figure a row carries; decides how the table prints it. */
export type RowKind = 'throughput' | 'latency' | 'memory' | 'scale' | 'failure' | 'dashboard';

/** Sizes of one run (`--quick` divides the defaults by ten). */
export interface BenchSizes {
  /** Entries per throughput drain (throughput, scale, failure path, dashboard cost). */
  messages: number;
  /** Entries of the warm-up drain each throughput variant gets before its timed drains. */
  warmupMessages: number;
  /** Messages per second the latency producer publishes. */
  latencyRate: number;
  /** How long the latency producer runs, in ms. */
  latencyDurationMs: number;
  /** Latency samples dropped at the start (connection warm-up, JIT). */
  latencyWarmup: number;
  /** Messages through the memory case. */
  memoryMessages: number;
  /** Messages processed before the memory case takes its warm-up reading. */
  memoryWarmup: number;
}

/** One line of the results: a measured figure, or the reason there is none (never a fake number). */
export interface CaseRow {
  /** The case id, e.g. `throughput-baseline`. */
  case: string;
  kind: RowKind;
  /** What was varied, e.g. `concurrency 50`. */
  variant: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why skipped or failed; or a remark on an ok row. */
  note?: string;
  messages?: number;
  /** Repeated cases: the median duration. */
  durationMs?: number;
  /** Repeated cases: the median msg/s. */
  msgPerSec?: number;
  /** Repeated cases: min and max msg/s over the timed repetitions. */
  spread?: { min: number; max: number };
  /** Repeated cases: every timed repetition, in run order (repetition r of every variant ran in round r). */
  reps?: { msgPerSec: number[]; durationMs: number[] };
  /** Latency rows: the medians of their runs (max: the largest); `samples` per run. */
  latencyMs?: { p50: number; p90: number; p99: number; max: number; mean: number; samples: number };
  /** Repeated latency rows: every run's p99, in run order (run r of every variant ran in round r). */
  latencyReps?: { p99Ms: number[] };
  memory?: {
    heapWarmMB: number;
    heapEndMB: number;
    heapGrowthMB: number;
    rssWarmMB: number;
    rssEndMB: number;
    rssGrowthMB: number;
  };
  /** Node CPU time of this process during the measured window, in % of one core (median if repeated). */
  nodeCpuPercent?: number;
  /** Redis CPU time during the measured window, in ms (INFO cpu, user + sys). */
  redisCpuMs?: number;
  /** Case-specific figures (handler calls, the figure it is compared to, …). */
  extra?: Record<string, number | string | boolean>;
}

/** What a case gets from the runner. */
export interface BenchContext {
  readonly redisUrl: string;
  /** Unique per run: every key a case writes starts with it. */
  readonly keyPrefix: string;
  readonly sizes: BenchSizes;
  /** Timed repetitions of every throughput variant (≥ 3). */
  readonly reps: number;
  /** `--only` as given (case ids or tags); empty for all. */
  readonly only: readonly string[];
  /** `--sabotage drop-acks`: streamvisor's storage loses one ack in 1,000, to see the checks fail. */
  readonly sabotage: 'drop-acks' | undefined;
  /** `--extended`: also the slow variants (concurrency 1, concurrency 64). */
  readonly extended: boolean;
  /** Rows measured so far in this run (for ratios to earlier cases). */
  readonly rows: readonly CaseRow[];
  /** A new ioredis connection (RESP2), closed by the case. */
  connect(): Redis;
  /** Prints a progress line to stderr. */
  log(line: string): void;
}

/** A case module's shape: `export async function run(ctx)`. */
export interface CaseModule {
  run(ctx: BenchContext): Promise<CaseRow[]>;
}
