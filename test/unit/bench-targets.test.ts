import { describe, expect, it } from 'vitest';
import { checkTargets } from '../../bench/lib/report.js';
import type { CaseRow } from '../../bench/lib/types.js';

// The bench's verdicts on the throughput targets, from rows of one interleaved run.

function row(caseId: string, variant: string, reps: number[]): CaseRow {
  const sorted = [...reps].sort((a, b) => a - b);
  return {
    case: caseId,
    kind: 'throughput',
    variant,
    status: 'ok',
    messages: 200_000,
    msgPerSec: sorted[Math.floor(sorted.length / 2)] as number,
    spread: { min: sorted[0] as number, max: sorted[sorted.length - 1] as number },
    reps: { msgPerSec: reps, durationMs: reps.map((r) => 200_000_000 / r) },
  };
}

const PIPELINED = 'streamvisor all defaults ≥ 0.8× pipelined bare loop (a2)';

function checks(defaults: number[], pipelined: number[] | CaseRow | undefined) {
  const rows: CaseRow[] = [
    row('throughput-baseline', 'COUNT 100', [100_000, 100_000, 100_000]),
    row('throughput-streamvisor', 'defaults', defaults),
  ];
  if (Array.isArray(pipelined))
    rows.push(row('throughput-baseline-pipelined', 'COUNT 1000, XACK pipelined', pipelined));
  else if (pipelined !== undefined) rows.push(pipelined);
  return checkTargets(rows);
}

function verdict(defaults: number[], pipelined: number[] | CaseRow | undefined) {
  return checks(defaults, pipelined).find((c) => c.target === PIPELINED);
}

describe('the target against the pipelined bare loop', () => {
  it('is met when the median and every round reach 0.8× the pipelined loop of that round', () => {
    const check = verdict([85_000, 90_000, 80_000], [100_000, 110_000, 100_000]);
    expect(check).toMatchObject({ status: 'met', median: 85_000 / 100_000 });
    expect(check?.perRep).toEqual([0.85, 90_000 / 110_000, 0.8]);
  });

  it('is within noise when the median reaches it but one round does not', () => {
    expect(verdict([85_000, 85_000, 70_000], [100_000, 100_000, 100_000])?.status).toBe('within noise');
  });

  it('is not met when the median ratio is under 0.8, although it clears 0.5× the COUNT 100 loop', () => {
    const all = checks([75_000, 75_000, 75_000], [100_000, 100_000, 100_000]);
    expect(all.find((c) => c.target === PIPELINED)?.status).toBe('NOT MET');
    expect(all.find((c) => c.target === 'streamvisor all defaults ≥ 0.5× bare loop (a)')?.status).toBe('met');
  });

  it('is failed when the pipelined row failed, and n/a when it did not run', () => {
    const failed: CaseRow = {
      case: 'throughput-baseline-pipelined',
      kind: 'throughput',
      variant: 'COUNT 1000, XACK pipelined',
      status: 'failed',
      note: 'rep 1: 3 left pending',
    };
    expect(verdict([85_000, 85_000, 85_000], failed)?.status).toBe('failed');
    expect(verdict([85_000, 85_000, 85_000], undefined)?.status).toBe('n/a');
  });

  it('keeps the earlier targets', () => {
    const targets = checkTargets([]).map((c) => c.target);
    expect(targets).toEqual(
      expect.arrayContaining([
        'streamvisor c16 ≥ 0.7× bare loop (a)',
        'streamvisor c16 ≥ 3× BullMQ c50',
        'streamvisor all defaults ≥ 0.5× bare loop (a)',
        PIPELINED,
      ]),
    );
  });
});

describe('the target of leased partitions', () => {
  const TARGET = 'leased partitions ≥ 0.9× unleased (one runtime, 4 partitions)';
  const of = (leased: number[], unleased: number[]) =>
    checkTargets([
      row('leased-partitions', 'unleased', unleased),
      row('leased-partitions', 'leased', leased),
    ]).find((c) => c.target === TARGET);

  it('is met at 0.9× the unleased drain of each round, not met below it on the median', () => {
    expect(of([95_000, 90_000, 92_000], [100_000, 100_000, 100_000])?.status).toBe('met');
    expect(of([85_000, 89_000, 80_000], [100_000, 100_000, 100_000])?.status).toBe('NOT MET');
    expect(checkTargets([]).find((c) => c.target === TARGET)?.status).toBe('n/a');
  });
});
