import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRuntime, MemoryStreamStorage, Router } from '../../src/index.js';
import { exponentialDelay } from '../../src/machines/backoff.js';

// Issue 25, item 14: what docs/migrating-from-codex-bot.md says about retries and recovery, checked
// against the code. It said the scheduled retry restores "Python's fixed 60 s delay" (the backoff is
// jittered: 30–60 s), that a failed Python message "stays pending forever" (the Python processor
// runs XAUTOCLAIM every 60 s), and its names table had no row for XAUTOCLAIM.

const guide = readFileSync(new URL('../../docs/migrating-from-codex-bot.md', import.meta.url), 'utf8');
const rows = guide.split('\n').filter((line) => line.startsWith('|'));

describe('docs/migrating-from-codex-bot.md', () => {
  it('gives the delay range the suggested options really have, and how to make it fixed', () => {
    const backoff = { initialMs: 60_000, maxMs: 60_000 };
    const shortest = exponentialDelay(1, backoff, () => 0);
    const longest = exponentialDelay(1, backoff, () => 1);
    expect([shortest, longest]).toEqual([30_000, 60_000]);
    const retries = rows.find((row) => row.startsWith('| Retries'));
    expect(retries).toContain('initialMs: 60_000, maxMs: 60_000');
    expect(retries).toContain(`between ${shortest / 1000} and ${longest / 1000} s`);
    expect(retries).not.toMatch(/with Python's fixed 60 s delay/);
    expect(retries).toContain('random: () => 1');
    // Python recovers with XAUTOCLAIM: nothing there stays pending forever.
    expect(retries).not.toMatch(/pending forever/);
    expect(retries).toMatch(/XAUTOCLAIM` \(every 60 s\)/);
  });

  it('maps Python’s XAUTOCLAIM to `claim: { minIdleMs, intervalMs }` with the real defaults', () => {
    const row = rows.find(
      (line) => line.includes('XAUTOCLAIM') && line.includes('claim: { minIdleMs, intervalMs }'),
    );
    expect(row).toBeDefined();
    const runtime = createRuntime({
      storage: new MemoryStreamStorage(),
      router: new Router(),
      consumers: [{ stream: 's', group: 'g' }],
    });
    const claim = runtime.consumers[0]!.claim;
    expect(row).toContain(
      `every ${claim.intervalMs / 1000} s, entries idle over ${claim.minIdleMs / 1000} s`,
    );
  });
});
