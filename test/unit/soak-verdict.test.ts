import { describe, expect, it } from 'vitest';
import { type SoakNumbers, soakBounds, soakVerdict } from '../faults/soak-verdict.js';

const clean: SoakNumbers = {
  lost: 0,
  unexpected: 0,
  publishFailures: 0,
  pendingAtEnd: 0,
  validDeadLettered: 0,
  badInputMisrouted: 0,
  duplicates: 0,
  excused: 0,
  uncleanStops: 0,
};
const bounds = { maxDuplicates: 100, maxExcused: 100 };

describe('the soak pass rule', () => {
  it('passes a clean run', () => {
    expect(soakVerdict(clean, bounds)).toEqual([]);
  });

  it.each([
    [{ lost: 1 }, '1 lost'],
    [{ unexpected: 2, publishFailures: 1 }, '2 handled without being published (1 publish failures)'],
    [{ pendingAtEnd: 13_560 }, '13560 still pending at the end'],
    [{ validDeadLettered: 1 }, '1 valid messages dead-lettered'],
    [{ badInputMisrouted: 1 }, '1 bad-input entries not dead-lettered with their reason'],
    [{ duplicates: 101 }, '101 duplicates, over the bound of 100'],
    [{ excused: 101 }, '101 excused, over the bound of 100'],
    [{ uncleanStops: 1 }, '1 worker process(es) did not stop cleanly'],
  ] as const)('fails on %o', (change, problem) => {
    expect(soakVerdict({ ...clean, ...change }, bounds)).toEqual([problem]);
  });

  it('forgives as many unexpected ids as XADDs failed, and duplicates and excuses up to the bound', () => {
    const n = { ...clean, unexpected: 3, publishFailures: 3, duplicates: 100, excused: 100 };
    expect(soakVerdict(n, bounds)).toEqual([]);
  });

  it('derives the bounds from the faults a run inflicted', () => {
    const faults = new Map([
      ['worker-kill', 2],
      ['client-kill', 1],
      ['flushall', 1],
      ['group-destroy', 2],
      ['bad-input', 5],
    ]);
    expect(soakBounds(faults, { duplicatesPerFault: 100, excusedPerFault: 50 })).toEqual({
      maxDuplicates: 300,
      maxExcused: 150,
    });
    expect(soakBounds(new Map(), { duplicatesPerFault: 100, excusedPerFault: 50 })).toEqual({
      maxDuplicates: 0,
      maxExcused: 0,
    });
  });
});
