/**
 * `npx tsx bench/gc-trace.ts [--seconds N] [--v8 "<flags>"]`: the young-generation GC behind the
 * pickup-latency tail. Runs the latency cases' steady producer (1,000 msg/s) through the bare loop
 * and through streamvisor at concurrency 16, each in its own Node process under `--trace-gc-nvp`
 * (plus the given V8 flags), on a private redis-server, and reports for the traffic window only: the
 * scavenges, their median and p90 pause, the median bytes each one promoted to the old generation,
 * and the pickup p99. A diagnostic, not a target: see docs/performance.md, "What the pickup tail is
 * made of".
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { bareDrain } from './cases/throughput-baseline.js';
import { runMain } from './lib/main.js';
import { LatencyRecorder, paced, timedFields } from './lib/pacer.js';
import { connect, createGroup } from './lib/redis.js';
import { summarize } from './lib/stats.js';
import { startStreamvisor } from './lib/streamvisor-drain.js';
import type { BenchSizes } from './lib/types.js';
import { waitUntil } from './lib/wait.js';

const VARIANTS = ['bare', 'streamvisor'] as const;
type Variant = (typeof VARIANTS)[number];
const RATE = 1_000;
const START = '### traffic start';
const END = '### traffic end';
const LATENCY = '### latency ';

/** One process: consume `stream` with `variant` while a producer publishes at RATE for `seconds`. */
async function child(variant: Variant, url: string, seconds: number): Promise<void> {
  const stream = `gctrace:${variant}`;
  const admin = connect(url);
  const producer = connect(url);
  const reader = connect(url);
  await createGroup(admin, stream, 'g', '$');
  const sizes: BenchSizes = {
    messages: 0,
    warmupMessages: 0,
    latencyRate: RATE,
    latencyDurationMs: seconds * 1000,
    latencyWarmup: 200,
    memoryMessages: 0,
    memoryWarmup: 0,
  };
  const recorder = new LatencyRecorder(sizes);
  const record = (payload: { i: number; t?: number }): void =>
    recorder.record(payload.i, payload.t ?? Number.NaN);
  const handle =
    variant === 'streamvisor'
      ? await startStreamvisor({ url, stream, group: 'g', concurrency: 16 }, record)
      : undefined;
  const draining = variant === 'bare' ? bareDrain(reader, stream, 'g', recorder.total, record) : undefined;
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log(START);
  await paced(recorder.total, RATE, (i) => void producer.xadd(stream, '*', ...timedFields(i)));
  await waitUntil(() => recorder.count >= recorder.total, { progress: () => recorder.count, what: variant });
  console.log(END);
  await draining;
  console.log(`${LATENCY}${JSON.stringify(recorder.row('gc-trace', variant).latencyMs)}`);
  await handle?.stop();
  await admin.del(stream);
  producer.disconnect();
  reader.disconnect();
  admin.disconnect();
}

interface Scavenge {
  pauseMs: number;
  promoted: number;
}

/** The scavenges `--trace-gc-nvp` printed between the traffic markers. */
function scavenges(stdout: string): Scavenge[] {
  const lines = stdout.split('\n');
  const window = lines.slice(lines.indexOf(START) + 1, lines.indexOf(END));
  return window
    .filter((line) => / gc=s /.test(line))
    .map((line) => ({
      pauseMs: Number(/pause=([\d.]+)/.exec(line)?.[1]),
      promoted: Number(/ promoted=(\d+)/.exec(line)?.[1]),
    }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      v8: { type: 'string', default: '' },
      child: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 2)
    throw new TypeError(`Expected \`--seconds\` to be an integer ≥ 2, got ${values.seconds}`);
  if (values.child !== undefined)
    return child(values.child as Variant, values.url ?? 'redis://127.0.0.1:6379', seconds);
  const server = await startRedisServer({ appendOnly: false });
  const rows: Record<string, unknown>[] = [];
  try {
    for (const variant of VARIANTS) {
      const flags = ['--trace-gc-nvp', '--expose-gc', ...values.v8.split(' ').filter(Boolean)];
      const args = [...flags, '--import', 'tsx', fileURLToPath(import.meta.url)];
      const run = spawnSync(
        process.execPath,
        [...args, '--child', variant, '--url', server.url, '--seconds', String(seconds)],
        { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      );
      if (run.status !== 0) throw new Error(`${variant} failed (${run.status}): ${run.stderr}`);
      const found = scavenges(run.stdout);
      const latency = JSON.parse(run.stdout.split(LATENCY)[1]?.split('\n')[0] ?? 'null') as { p99: number };
      const pauses = summarize(found.map((s) => s.pauseMs));
      rows.push({
        variant,
        scavenges: found.length,
        pauseMedianMs: pauses.p50,
        pauseP90Ms: pauses.p90,
        promotedMedianKB: Math.round(summarize(found.map((s) => s.promoted)).p50 / 1024),
        pickupP99Ms: Math.round(latency.p99 * 100) / 100,
      });
    }
  } finally {
    await server.stop();
  }
  console.log(`${seconds} s at ${RATE} msg/s${values.v8 ? `, V8 flags: ${values.v8}` : ''}`);
  console.table(rows);
  console.log(JSON.stringify(rows));
}

runMain(main);
