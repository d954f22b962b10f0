import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname } from 'node:path';
import Table from 'cli-table3';
import type { CaseRow } from './types.js';

/** No ANSI colours when the output is piped (a report, a CI log). */
const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

const fmtInt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(1));

/** Throughput of the bare-ioredis baseline (a), if it ran. */
export function baselineRate(rows: readonly CaseRow[]): number | undefined {
  return rows.find((r) => r.case === 'throughput-baseline' && r.status === 'ok')?.msgPerSec;
}

function result(row: CaseRow): string {
  if (row.status !== 'ok') return `${row.status}: ${row.note ?? ''}`;
  const parts: string[] = [];
  if (row.msgPerSec !== undefined) parts.push(`${fmtInt.format(row.msgPerSec)} msg/s`);
  if (row.latencyMs !== undefined) {
    const l = row.latencyMs;
    parts.push(`p50 ${ms(l.p50)} · p99 ${ms(l.p99)} · max ${ms(l.max)} ms`);
  }
  if (row.memory !== undefined) {
    const m = row.memory;
    parts.push(
      `heap ${m.heapWarmMB.toFixed(1)}→${m.heapEndMB.toFixed(1)} MB (${sign(m.heapGrowthMB)}), ` +
        `rss ${m.rssWarmMB.toFixed(0)}→${m.rssEndMB.toFixed(0)} MB (${sign(m.rssGrowthMB)})`,
    );
  }
  return parts.join('; ');
}

function sign(mb: number): string {
  return `${mb >= 0 ? '+' : ''}${mb.toFixed(1)}`;
}

function details(row: CaseRow): string {
  const parts: string[] = [];
  if (row.status === 'ok' && row.note !== undefined) parts.push(row.note);
  if (row.nodeCpuPercent !== undefined) parts.push(`node cpu ${row.nodeCpuPercent.toFixed(0)}%`);
  if (row.redisCpuMs !== undefined && row.messages !== undefined && row.messages > 0) {
    parts.push(`redis cpu ${((row.redisCpuMs * 1000) / row.messages).toFixed(1)} µs/msg`);
  }
  for (const [k, v] of Object.entries(row.extra ?? {})) {
    parts.push(`${k} ${typeof v === 'number' ? fmtInt.format(v) : String(v)}`);
  }
  return parts.join(', ');
}

/** The results table, one line per row; ratios are to the bare-ioredis baseline (a). */
export function renderTable(rows: readonly CaseRow[]): string {
  const base = baselineRate(rows);
  const table = new Table({
    head: ['case', 'variant', 'msgs', 'result', '× (a)', 'details'],
    colWidths: [24, 16, 10, 44, 7, 44],
    wordWrap: true,
    ...style,
  });
  for (const row of rows) {
    const ratio =
      row.status === 'ok' && row.msgPerSec !== undefined && base !== undefined
        ? (row.msgPerSec / base).toFixed(2)
        : '';
    table.push([
      row.case,
      row.variant,
      row.messages === undefined ? '' : fmtInt.format(row.messages),
      result(row),
      ratio,
      details(row),
    ]);
  }
  return table.toString();
}

/** One target of the benchmark issue, checked against this run's rows. */
export interface TargetCheck {
  target: string;
  measured: string;
  status: 'pass' | 'FAIL' | 'n/a';
}

function find(rows: readonly CaseRow[], id: string, variant?: string): CaseRow | undefined {
  return rows.find(
    (r) => r.case === id && r.status === 'ok' && (variant === undefined || r.variant === variant),
  );
}

/** Checks the targets; a target whose rows did not run is `n/a`, never a pass. */
export function checkTargets(rows: readonly CaseRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const base = baselineRate(rows);
  const sv16 = find(rows, 'throughput-streamvisor', 'concurrency 16')?.msgPerSec;
  const bull50 = find(rows, 'throughput-bullmq', 'concurrency 50')?.msgPerSec;
  const ratioCheck = (target: string, a: number | undefined, b: number | undefined, min: number): void => {
    if (a === undefined || b === undefined) {
      checks.push({ target, measured: 'not measured', status: 'n/a' });
      return;
    }
    const r = a / b;
    checks.push({ target, measured: `${r.toFixed(2)}×`, status: r >= min ? 'pass' : 'FAIL' });
  };
  ratioCheck('streamvisor c16 ≥ 0.5× baseline (a)', sv16, base, 0.5);
  ratioCheck('streamvisor c16 ≥ 3× BullMQ c50', sv16, bull50, 3);
  const sv16p = find(rows, 'throughput-streamvisor', 'concurrency 16 prefetch 48')?.msgPerSec;
  ratioCheck('streamvisor c16 prefetch 48 ≥ 0.5× baseline (a)', sv16p, base, 0.5);

  const svLat = find(rows, 'latency-streamvisor')?.latencyMs;
  const bullLat = rows
    .filter((r) => r.case === 'latency-bullmq' && r.status === 'ok' && r.latencyMs !== undefined)
    .map((r) => r.latencyMs?.p99 as number);
  checks.push(
    svLat === undefined
      ? { target: 'pickup p99 ≤ 2 ms at 1,000 msg/s', measured: 'not measured', status: 'n/a' }
      : {
          target: 'pickup p99 ≤ 2 ms at 1,000 msg/s',
          measured: `${ms(svLat.p99)} ms`,
          status: svLat.p99 <= 2 ? 'pass' : 'FAIL',
        },
  );
  if (svLat === undefined || bullLat.length === 0) {
    checks.push({ target: 'pickup p99 no worse than BullMQ', measured: 'not measured', status: 'n/a' });
  } else {
    const best = Math.min(...bullLat);
    checks.push({
      target: 'pickup p99 no worse than BullMQ',
      measured: `${ms(svLat.p99)} vs ${ms(best)} ms`,
      status: svLat.p99 <= best ? 'pass' : 'FAIL',
    });
  }

  const mem = find(rows, 'memory-streamvisor')?.memory;
  checks.push(
    mem === undefined
      ? { target: 'heap growth ≤ 10 MB after warm-up', measured: 'not measured', status: 'n/a' }
      : {
          target: 'heap growth ≤ 10 MB after warm-up',
          measured: `${sign(mem.heapGrowthMB)} MB`,
          status: mem.heapGrowthMB <= 10 ? 'pass' : 'FAIL',
        },
  );

  const without = find(rows, 'dashboard-cost', 'without')?.msgPerSec;
  const withDash = find(rows, 'dashboard-cost', 'with dashboard')?.msgPerSec;
  if (without === undefined || withDash === undefined) {
    checks.push({ target: 'dashboard attached costs < 10%', measured: 'not measured', status: 'n/a' });
  } else {
    const cost = 1 - withDash / without;
    checks.push({
      target: 'dashboard attached costs < 10%',
      measured: `${(cost * 100).toFixed(1)}%`,
      status: cost < 0.1 ? 'pass' : 'FAIL',
    });
  }

  const failure = find(rows, 'failure-path');
  if (failure === undefined) {
    checks.push({
      target: 'failure path: handler calls = 1.1× messages',
      measured: 'not measured',
      status: 'n/a',
    });
  } else {
    const calls = Number(failure.extra?.['handler calls']);
    const expected = Math.round((failure.messages ?? 0) * 1.1);
    checks.push({
      target: 'failure path: handler calls = 1.1× messages',
      measured: `${fmtInt.format(calls)} of ${fmtInt.format(expected)}`,
      status: calls === expected ? 'pass' : 'FAIL',
    });
  }
  return checks;
}

/** The targets table. */
export function renderTargets(checks: readonly TargetCheck[]): string {
  const table = new Table({ head: ['target', 'measured', 'status'], ...style });
  for (const c of checks) table.push([c.target, c.measured, c.status]);
  return table.toString();
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Machine and software versions, for results.json. */
export function environment(redisVersion: string, redisMode: string): Record<string, unknown> {
  const cpus = os.cpus();
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return {
    machine: {
      platform: process.platform,
      arch: process.arch,
      kernel: os.release(),
      cpuModel: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      availableParallelism: os.availableParallelism(),
      totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
      loadAverage: os.loadavg(),
    },
    versions: {
      node: process.versions.node,
      v8: process.versions.v8,
      redis: redisVersion,
      streamvisor: own.version,
      ioredis: packageVersion('ioredis'),
      bullmq: packageVersion('bullmq'),
      xstate: packageVersion('xstate'),
      pino: packageVersion('pino'),
      tsx: packageVersion('tsx'),
    },
    redis: { mode: redisMode, version: redisVersion },
  };
}

/** Writes the JSON results to `path` (directories created). */
export function writeResults(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
