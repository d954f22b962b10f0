/**
 * `npm run bench`: runs the benchmark cases one after another on one Redis, prints a table and
 * writes bench/results.json. See bench/README.md. Not part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from './lib/main.js';
import { parseOptions, USAGE } from './lib/options.js';
import { connect, deleteKeys, redisVersion } from './lib/redis.js';
import { openRedisTarget } from './lib/redis-target.js';
import { checkTargets, environment, renderTable, renderTargets, writeResults } from './lib/report.js';
import { missingStreamvisorExports } from './lib/streamvisor-availability.js';
import type { BenchContext, CaseModule, CaseRow, RowKind } from './lib/types.js';

interface CaseEntry {
  id: string;
  kind: RowKind;
  /** Extra names `--only` matches besides the id. */
  tags: string[];
  /** Public exports of src/index.ts the case needs; missing ones skip it. */
  requires: string[];
  load: () => Promise<CaseModule>;
}

const RUNTIME = ['createRuntime', 'Router', 'RedisStreamStorage'];

const CASES: CaseEntry[] = [
  {
    // One interleaved suite: ratios are only honest between drains of the same rounds.
    id: 'throughput',
    kind: 'throughput',
    tags: [
      'throughput',
      'baseline',
      'bullmq',
      'streamvisor',
      'throughput-baseline',
      'throughput-baseline-pipelined',
      'throughput-bullmq',
      'throughput-streamvisor',
    ],
    requires: RUNTIME,
    load: () => import('./cases/throughput.js'),
  },
  {
    id: 'latency',
    kind: 'latency',
    tags: ['latency', 'baseline', 'streamvisor', 'latency-baseline', 'latency-streamvisor'],
    requires: RUNTIME,
    load: () => import('./cases/latency.js'),
  },
  {
    id: 'latency-bullmq',
    kind: 'latency',
    tags: ['latency', 'bullmq'],
    requires: [],
    load: () => import('./cases/latency-bullmq.js'),
  },
  {
    id: 'memory-streamvisor',
    kind: 'memory',
    tags: ['memory', 'streamvisor'],
    requires: RUNTIME,
    load: () => import('./cases/memory-streamvisor.js'),
  },
  {
    id: 'scale-two-processes',
    kind: 'scale',
    tags: ['scale', 'streamvisor'],
    requires: RUNTIME,
    load: () => import('./cases/scale-two-processes.js'),
  },
  {
    id: 'cluster-partitions',
    kind: 'scale',
    tags: ['scale', 'cluster', 'streamvisor'],
    requires: [...RUNTIME, 'publish'],
    load: () => import('./cases/cluster-partitions.js'),
  },
  {
    id: 'failure-path',
    kind: 'failure',
    tags: ['failure', 'streamvisor'],
    requires: RUNTIME,
    load: () => import('./cases/failure-path.js'),
  },
  {
    id: 'batch-handlers',
    kind: 'throughput',
    tags: ['batch', 'streamvisor'],
    requires: [...RUNTIME, 'BatchError'],
    load: () => import('./cases/batch-handlers.js'),
  },
  {
    id: 'leased-partitions',
    kind: 'throughput',
    tags: ['leases', 'partitions', 'streamvisor'],
    requires: RUNTIME,
    load: () => import('./cases/leased-partitions.js'),
  },
  {
    id: 'dashboard-cost',
    kind: 'dashboard',
    tags: ['dashboard', 'streamvisor'],
    requires: [...RUNTIME, 'startDashboard'],
    load: () => import('./cases/dashboard-cost.js'),
  },
];

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** The memory case needs `global.gc`: without it, run this same script again under --expose-gc. */
function ensureExposeGc(): void {
  if (typeof (globalThis as { gc?: unknown }).gc === 'function') return;
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', self, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(child.status ?? 1);
}

function selected(entry: CaseEntry, only: string[]): boolean {
  return only.length === 0 || only.some((name) => name === entry.id || entry.tags.includes(name));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const cases = CASES.filter((entry) => selected(entry, options.only));
  if (cases.length === 0)
    throw new TypeError(`Expected \`--only\` to name a case or tag, got ${options.only.join(',')}`);
  ensureExposeGc();

  const target = await openRedisTarget(log);
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const keyPrefix = `svbench:${runId}:`;
  const admin = connect(target.url);
  const rows: CaseRow[] = [];
  const startedAt = new Date().toISOString();
  try {
    const version = await redisVersion(admin);
    log(
      `redis ${version} (${target.mode}), keys ${keyPrefix}*, ${options.quick ? 'quick' : 'full'} sizes, ` +
        `${options.reps} interleaved reps${options.sabotage === undefined ? '' : `, SABOTAGE ${options.sabotage}`}`,
    );
    const ctx: BenchContext = {
      redisUrl: target.url,
      keyPrefix,
      sizes: options.sizes,
      reps: options.reps,
      only: options.only,
      sabotage: options.sabotage,
      extended: options.extended,
      rows,
      connect: () => connect(target.url),
      log,
    };
    for (const entry of cases) {
      if (target.flushable) await admin.flushall();
      const missing = entry.requires.length === 0 ? [] : await missingStreamvisorExports(entry.requires);
      if (missing.length > 0) {
        rows.push({
          case: entry.id,
          kind: entry.kind,
          variant: '',
          status: 'skipped',
          note: `not available yet: ${missing.join(', ')}`,
        });
        log(`${entry.id}: skipped (not available yet: ${missing.join(', ')})`);
        continue;
      }
      log(`${entry.id}: running`);
      try {
        const module = await entry.load();
        rows.push(...(await module.run(ctx)));
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
        rows.push({
          case: entry.id,
          kind: entry.kind,
          variant: '',
          status: 'failed',
          note: message ?? 'unknown error',
        });
        log(
          `${entry.id}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      } finally {
        await deleteKeys(admin, `${keyPrefix}*`);
      }
    }
    const targets = checkTargets(rows);
    console.log(renderTable(rows));
    console.log(renderTargets(targets));
    const out = resolve(options.out);
    writeResults(out, {
      startedAt,
      finishedAt: new Date().toISOString(),
      options: {
        only: options.only,
        quick: options.quick,
        reps: options.reps,
        extended: options.extended,
        sabotage: options.sabotage ?? null,
        sizes: options.sizes,
      },
      ...environment(version, target.mode),
      cases: rows,
      targets,
    });
    log(`results written to ${out}`);
  } finally {
    admin.disconnect();
    await target.stop();
  }
}

// Exit explicitly: a case that failed half-way may leave a connection or timer of the code under test.
runMain(main);
