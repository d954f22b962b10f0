/**
 * `npx tsx bench/profile.ts [--variant c16|defaults|c16p48|a2|batch|per-message] [--messages N] [--reps N] [--out file]`:
 * a CPU profile of streamvisor's timed drains only (the fill, the warm-up and Redis setup are
 * outside the profile), through the same harness as `npm run bench`, on a private redis-server.
 * Writes a `.cpuprofile` (open it in Chrome DevTools) and prints the top self-time functions.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { batchCaseVariant } from './cases/batch-handlers.js';
import { pipelinedBaselineVariant } from './cases/throughput-baseline-pipelined.js';
import { type DrainVariant, timeDrain } from './lib/drain.js';
import { DrainStream } from './lib/drain-stream.js';
import { runMain } from './lib/main.js';
import { svVariant } from './lib/streamvisor-throughput.js';
import type { BenchContext } from './lib/types.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SV_VARIANTS = {
  c16: { variant: 'concurrency 16', concurrency: 16 },
  defaults: { variant: 'defaults' },
  c16p48: { variant: 'concurrency 16 prefetch 48', concurrency: 16, prefetch: 48 },
} as const;

/** The drains `--variant` names: streamvisor's, and the pipelined bare loop (a2) to compare with. */
const VARIANTS: Record<string, () => DrainVariant> = {
  ...Object.fromEntries(
    Object.entries(SV_VARIANTS).map(([name, options]) => [
      name,
      () => svVariant({ caseId: 'throughput-streamvisor', ...options }),
    ]),
  ),
  a2: () => pipelinedBaselineVariant,
  batch: () => batchCaseVariant('batch 100', true),
  'per-message': () => batchCaseVariant('per message', false),
};

/** Self time per function (name, file, line), most first. */
function topSelf(profile: Profile, count: number): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, k) => {
    const delta = profile.timeDeltas[k] ?? 0;
    const frame = byId.get(id)?.callFrame;
    const key = `${frame?.functionName || '(anonymous)'} ${frame?.url.split('/').pop() ?? ''}:${(frame?.lineNumber ?? 0) + 1}`;
    self.set(key, (self.get(key) ?? 0) + delta);
    total += delta;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([key, us]) =>
        `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`,
    );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'c16' },
      messages: { type: 'string', default: '200000' },
      reps: { type: 'string', default: '3' },
      out: { type: 'string', default: 'bench/streamvisor.cpuprofile' },
    },
  });
  const chosen = VARIANTS[values.variant ?? ''];
  if (chosen === undefined)
    throw new TypeError(
      `Expected \`--variant\` to be one of ${Object.keys(VARIANTS).join(', ')}, got ${values.variant}`,
    );
  const messages = Number(values.messages);
  const reps = Number(values.reps);
  const server = await startRedisServer({ appendOnly: false });
  const connect = (): Redis => new Redis(server.url, { protocol: 2 });
  const admin = connect();
  const ctx: BenchContext = {
    redisUrl: server.url,
    keyPrefix: 'svprofile:',
    sizes: {
      messages,
      warmupMessages: Math.max(1_000, Math.round(messages / 20)),
      latencyRate: 0,
      latencyDurationMs: 0,
      latencyWarmup: 0,
      memoryMessages: 0,
      memoryWarmup: 0,
    },
    reps,
    only: [],
    sabotage: undefined,
    extended: false,
    rows: [],
    connect,
    log: (line) => process.stderr.write(`[profile] ${line}\n`),
  };
  const session = new Session();
  try {
    const variant = chosen();
    const warmup = await DrainStream.fill(admin, 'svprofile:warmup', ctx.sizes.warmupMessages);
    const timed = await DrainStream.fill(admin, 'svprofile:timed', messages);
    await timeDrain(ctx, variant, warmup, admin);
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    for (let rep = 1; rep <= reps; rep++) {
      const f = await timeDrain(ctx, variant, timed, admin);
      const cpuUs = ((f.nodeCpuPercent / 100) * f.durationMs * 1000) / f.messages;
      ctx.log(
        `${variant.variant} rep ${rep}: ${Math.round(f.msgPerSec)} msg/s, node cpu ${cpuUs.toFixed(1)} µs/msg`,
      );
    }
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    writeFileSync(values.out ?? 'bench/streamvisor.cpuprofile', JSON.stringify(profile));
    console.log(topSelf(profile, 30).join('\n'));
    ctx.log(`profile written to ${values.out} (prepare, verify and close of each drain are in it too)`);
  } finally {
    session.disconnect();
    admin.disconnect();
    await server.stop();
  }
}

runMain(main);
