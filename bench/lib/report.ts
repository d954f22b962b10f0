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

/** The bare-ioredis baseline (a) row, if it ran. */
function baselineRow(rows: readonly CaseRow[]): CaseRow | undefined {
  return rows.find((r) => r.case === 'throughput-baseline' && r.status === 'ok');
}

/** Throughput of the bare-ioredis baseline (a), if it ran (the median of its repetitions). */
export function baselineRate(rows: readonly CaseRow[]): number | undefined {
  return baselineRow(rows)?.msgPerSec;
}

/**
 * Ratios of `a` to `b`: of the medians, and per repetition (a's rep r over b's rep r: they ran in
 * the same round, minutes apart at most). No per-repetition ratios unless both have the same count.
 */
export function ratios(a: CaseRow, b: CaseRow): { median: number; perRep: number[] } | undefined {
  if (a.msgPerSec === undefined || b.msgPerSec === undefined) return undefined;
  const ra = a.reps?.msgPerSec ?? [];
  const rb = b.reps?.msgPerSec ?? [];
  const perRep = ra.length === rb.length && ra.length > 1 ? ra.map((v, r) => v / (rb[r] as number)) : [];
  return { median: a.msgPerSec / b.msgPerSec, perRep };
}

function result(row: CaseRow): string {
  if (row.status !== 'ok') return `${row.status}: ${row.note ?? ''}`;
  const parts: string[] = [];
  if (row.msgPerSec !== undefined) {
    parts.push(
      row.spread === undefined || (row.reps?.msgPerSec.length ?? 0) < 2
        ? `${fmtInt.format(row.msgPerSec)} msg/s`
        : `${fmtInt.format(row.msgPerSec)} msg/s median of ${row.reps?.msgPerSec.length} ` +
            `(${fmtInt.format(row.spread.min)}–${fmtInt.format(row.spread.max)})`,
    );
  }
  if (row.latencyMs !== undefined) {
    const l = row.latencyMs;
    const p99s = row.latencyReps?.p99Ms ?? [];
    const spread = p99s.length < 2 ? '' : ` (${range(p99s)})`;
    const of = p99s.length < 2 ? '' : `, medians of ${p99s.length}`;
    parts.push(`p50 ${ms(l.p50)} · p99 ${ms(l.p99)}${spread} · max ${ms(l.max)} ms${of}`);
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

/**
 * "; scavenges 36 (95 ms) vs bare 10 (18 ms)": the young-generation pauses behind a pickup tail, from
 * the latency rows' GC windows; empty when the rows have none.
 */
function scavenges(row: CaseRow | undefined, bare: CaseRow | undefined): string {
  const of = (r: CaseRow | undefined): string | null =>
    typeof r?.extra?.scavenges === 'number'
      ? `${r.extra.scavenges} (${r.extra['scavenge pause ms']} ms)`
      : null;
  const own = of(row);
  if (own === null) return '';
  const base = of(bare);
  return `; scavenges ${own}${base === null ? '' : ` vs bare ${base}`}`;
}

function range(values: readonly number[], digits = 2): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

/**
 * The results table, one line per row. × (a) is the ratio of medians to the bare-ioredis baseline,
 * with the range of per-repetition ratios for the rows of the interleaved throughput suite.
 */
export function renderTable(rows: readonly CaseRow[]): string {
  const base = baselineRow(rows);
  const table = new Table({
    head: ['case', 'variant', 'msgs', 'result', '× (a) median (per rep)', 'details'],
    colWidths: [31, 16, 11, 40, 14, 37],
    wordWrap: true,
    ...style,
  });
  for (const row of rows) {
    const r = row.status === 'ok' && base !== undefined ? ratios(row, base) : undefined;
    const ratio =
      r === undefined
        ? ''
        : row.kind === 'throughput' && r.perRep.length > 0
          ? `${r.median.toFixed(2)} (${range(r.perRep)})`
          : r.median.toFixed(2);
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

/**
 * One target of the issue, checked against this run's rows. `met` only when the median meets the
 * target AND so does every repetition (for ratios: every per-repetition ratio); `within noise` when
 * the median meets it but some repetition does not; `NOT MET` when the median does not; `failed`
 * when a row it needs failed; `n/a` when it did not run.
 */
export interface TargetCheck {
  target: string;
  measured: string;
  status: 'met' | 'within noise' | 'NOT MET' | 'failed' | 'n/a';
  /** The median figure the verdict is on (a ratio, a cost, ms or MB). */
  median?: number;
  /** Per-repetition figures, where the target is judged on repeated drains. */
  perRep?: number[];
}

/** How repeated figures decide a verdict (printed under the targets and in the docs). */
export const VERDICT_RULE =
  'met = the median meets the target AND every repetition does (ratios taken per repetition: ' +
  'variant rep r / baseline rep r, both from round r); within noise = the median meets it but a ' +
  'repetition does not; NOT MET = the median does not.';

function find(rows: readonly CaseRow[], id: string, variant?: string): CaseRow | undefined {
  return rows.find((r) => r.case === id && (variant === undefined || r.variant === variant));
}

function verdict(medianOk: boolean, everyOk: boolean): TargetCheck['status'] {
  if (!medianOk) return 'NOT MET';
  return everyOk ? 'met' : 'within noise';
}

/** `a / b ≥ min`, on medians and per repetition. */
function ratioCheck(
  target: string,
  a: CaseRow | undefined,
  b: CaseRow | undefined,
  min: number,
): TargetCheck {
  if (a === undefined || b === undefined) return { target, measured: 'not measured', status: 'n/a' };
  const broken = [a, b].filter((row) => row.status !== 'ok');
  if (broken.length > 0) {
    return {
      target,
      measured: broken.map((row) => `${row.case} ${row.variant} ${row.status}`).join('; '),
      status: broken.some((row) => row.status === 'failed') ? 'failed' : 'n/a',
    };
  }
  const r = ratios(a, b);
  if (r === undefined) return { target, measured: 'not measured', status: 'n/a' };
  const perRep = r.perRep.length > 0 ? r.perRep : [r.median];
  return {
    target,
    // Three decimals: a 0.698 printed as 0.70 next to NOT MET reads like a bug.
    measured: `${r.median.toFixed(3)}× (per rep ${range(perRep, 3)}×)`,
    status: verdict(
      r.median >= min,
      perRep.every((v) => v >= min),
    ),
    median: r.median,
    perRep,
  };
}

/** Checks the issue's targets; a target whose rows did not run is `n/a`, never met. */
export function checkTargets(rows: readonly CaseRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const base = find(rows, 'throughput-baseline');
  const sv16 = find(rows, 'throughput-streamvisor', 'concurrency 16');
  const svDefaults = find(rows, 'throughput-streamvisor', 'defaults');
  const bull50 = find(rows, 'throughput-bullmq', 'concurrency 50');
  const pipelined = find(rows, 'throughput-baseline-pipelined');
  checks.push(ratioCheck('streamvisor c16 ≥ 0.7× bare loop (a)', sv16, base, 0.7));
  checks.push(ratioCheck('streamvisor c16 ≥ 3× BullMQ c50', sv16, bull50, 3));
  checks.push(ratioCheck('streamvisor all defaults ≥ 0.5× bare loop (a)', svDefaults, base, 0.5));
  checks.push(
    ratioCheck('streamvisor all defaults ≥ 0.8× pipelined bare loop (a2)', svDefaults, pipelined, 0.8),
  );

  const latencyTarget = 'pickup p99 ≤ 2 ms at 1,000 msg/s (streamvisor c16)';
  const svLatRow = find(rows, 'latency-streamvisor');
  const baseLatRow = find(rows, 'latency-baseline');
  const baseLat = baseLatRow?.latencyMs;
  const svLat = svLatRow?.latencyMs;
  if (svLatRow?.status === 'failed')
    checks.push({ target: latencyTarget, measured: 'case failed', status: 'failed' });
  else if (svLat === undefined)
    checks.push({ target: latencyTarget, measured: 'not measured', status: 'n/a' });
  else {
    const p99s = svLatRow?.latencyReps?.p99Ms ?? [svLat.p99];
    const baseP99s = baseLatRow?.latencyReps?.p99Ms;
    const samples = `${fmtInt.format(svLat.samples)} samples`;
    const runs =
      p99s.length === 1
        ? `one run of ${samples}`
        : `median of ${p99s.length} runs of ${samples}, per run ${range(p99s)} ms`;
    const bare =
      baseLat === undefined
        ? ''
        : `; bare loop p99 ${ms(baseLat.p99)} ms${baseP99s && baseP99s.length > 1 ? ` (${range(baseP99s)})` : ''}`;
    checks.push({
      target: latencyTarget,
      measured: `${ms(svLat.p99)} ms (${runs}${bare}${scavenges(svLatRow, baseLatRow)})`,
      status: svLat.p99 > 2 ? 'NOT MET' : p99s.every((p99) => p99 <= 2) ? 'met' : 'within noise',
      median: svLat.p99,
    });
  }

  const memTarget = 'heap growth over 1M messages ≤ 10 MB';
  const memRow = find(rows, 'memory-streamvisor');
  const mem = memRow?.memory;
  if (memRow?.status === 'failed')
    checks.push({ target: memTarget, measured: 'case failed', status: 'failed' });
  else if (mem === undefined) checks.push({ target: memTarget, measured: 'not measured', status: 'n/a' });
  else
    checks.push({
      target: memTarget,
      measured: `${sign(mem.heapGrowthMB)} MB over ${fmtInt.format(memRow?.messages ?? 0)} messages`,
      status: mem.heapGrowthMB <= 10 ? 'met' : 'NOT MET',
      median: mem.heapGrowthMB,
    });

  const dashTarget = 'dashboard attached costs < 10%';
  const without = find(rows, 'dashboard-cost', 'without');
  const withDash = find(rows, 'dashboard-cost', 'with dashboard');
  if (without === undefined || withDash === undefined) {
    checks.push({ target: dashTarget, measured: 'not measured', status: 'n/a' });
  } else if (without.status !== 'ok' || withDash.status !== 'ok') {
    checks.push({ target: dashTarget, measured: 'case failed', status: 'failed' });
  } else {
    const r = ratios(withDash, without);
    if (r === undefined) checks.push({ target: dashTarget, measured: 'not measured', status: 'n/a' });
    else {
      const cost = 1 - r.median;
      const perRep = (r.perRep.length > 0 ? r.perRep : [r.median]).map((v) => 1 - v);
      const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
      checks.push({
        target: dashTarget,
        measured: `${pct(cost)} (per rep ${pct(Math.min(...perRep))} – ${pct(Math.max(...perRep))})`,
        status: verdict(
          cost < 0.1,
          perRep.every((v) => v < 0.1),
        ),
        median: cost,
        perRep,
      });
    }
  }

  checks.push(
    ratioCheck(
      'batch handler ≥ 3× per message (one round trip per call)',
      find(rows, 'batch-handlers', 'batch 100'),
      find(rows, 'batch-handlers', 'per message'),
      3,
    ),
  );

  checks.push(
    ratioCheck(
      'leased partitions ≥ 0.9× unleased (one runtime, 4 partitions)',
      find(rows, 'leased-partitions', 'leased'),
      find(rows, 'leased-partitions', 'unleased'),
      0.9,
    ),
  );

  const failureTarget = 'failure path: handler calls = 1.1× messages';
  const failure = find(rows, 'failure-path');
  if (failure === undefined) checks.push({ target: failureTarget, measured: 'not measured', status: 'n/a' });
  else if (failure.status !== 'ok')
    checks.push({ target: failureTarget, measured: failure.note ?? failure.status, status: 'failed' });
  else {
    const calls = Number(failure.extra?.['handler calls']);
    const expected = Number(failure.extra?.['expected calls']);
    checks.push({
      target: failureTarget,
      measured: `${fmtInt.format(calls)} of ${fmtInt.format(expected)}`,
      status: calls === expected ? 'met' : 'NOT MET',
    });
  }
  return checks;
}

/** The targets table, with the rule that decides `met`. */
export function renderTargets(checks: readonly TargetCheck[]): string {
  const table = new Table({ head: ['target', 'measured', 'verdict'], ...style });
  for (const c of checks) table.push([c.target, c.measured, c.status]);
  return `${table.toString()}\n${VERDICT_RULE}`;
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
