import { parseArgs } from 'node:util';
import type { BenchSizes } from './types.js';

/** Parsed command line of `npm run bench`. */
export interface BenchOptions {
  /** Case ids or tags to run; empty for all. */
  only: string[];
  quick: boolean;
  out: string;
  sizes: BenchSizes;
  reps: number;
  sabotage: 'drop-acks' | undefined;
  extended: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]
  --only <a,b,…>   run only these cases (ids or tags: baseline, bullmq, streamvisor, throughput,
                   latency, memory, scale, failure, dashboard)
  --messages N     entries per throughput drain (default 200000; 20000 with --quick)
  --quick          a tenth of every size, for smoke runs
  --reps N         timed repetitions of every throughput variant, interleaved (default 3, at least 3)
  --extended       also the slow variants: BullMQ and streamvisor at concurrency 1, streamvisor at 64
  --sabotage drop-acks
                   check the bench itself: streamvisor's storage silently drops one ack in 1,000;
                   every streamvisor drain must then fail with entries left pending
  --out <path>     where to write the JSON results (default bench/results.json)
  --help           this text
Redis: REDIS_URL if set (shared: unique keys, never flushed), else a private redis-server.`;

/** Parses `argv` (without node and script). Throws TypeError on a bad value. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      messages: { type: 'string' },
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      extended: { type: 'boolean', default: false },
      sabotage: { type: 'string' },
      out: { type: 'string', default: 'bench/results.json' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const scale = quick ? 10 : 1;
  let messages = 200_000 / scale;
  if (values.messages !== undefined) {
    messages = Number(values.messages);
    if (!Number.isInteger(messages) || messages < 100) {
      throw new TypeError(`Expected \`--messages\` to be an integer ≥ 100, got ${values.messages}`);
    }
  }
  const reps = values.reps === undefined ? 3 : Number(values.reps);
  if (!Number.isInteger(reps) || reps < 3)
    throw new TypeError(`Expected \`--reps\` to be an integer ≥ 3, got ${values.reps}`);
  if (values.sabotage !== undefined && values.sabotage !== 'drop-acks')
    throw new TypeError(`Expected \`--sabotage\` to be drop-acks, got ${values.sabotage}`);
  const only = (values.only ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    only,
    quick,
    out: values.out ?? 'bench/results.json',
    help: values.help === true,
    reps,
    sabotage: values.sabotage === 'drop-acks' ? 'drop-acks' : undefined,
    extended: values.extended === true,
    sizes: {
      messages,
      warmupMessages: Math.max(1_000, Math.round(messages / 10)),
      latencyRate: 1_000,
      latencyDurationMs: 10_000 / scale,
      latencyWarmup: 200, // not scaled: a tenth would leave BullMQ's script loading in the figures
      memoryMessages: 1_000_000 / scale,
      memoryWarmup: 100_000 / scale,
    },
  };
}
