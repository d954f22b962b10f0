import { afterEach, describe, expect, it } from 'vitest';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import {
  auditDeadLetters,
  eventually,
  type FaultContext,
  onPrivateRedis,
  pendingIds,
  printLedger,
  publishMany,
  startWorker,
  within,
} from './fault-support.js';

// Fault 5: a consumer process is SIGKILLed while its handlers run (mid-batch). What it had read and not
// acked stays in its PEL; the surviving process's claim recovery (XAUTOCLAIM past claim.minIdleMs)
// takes those entries over and handles them. Nothing the dead process acked is handled again by
// claim, and nothing is lost.

afterEach(() => expectNoLeaks());

const MIN_IDLE_MS = 1500;

describe('fault: a consumer process SIGKILLed mid-batch', () => {
  it(
    'the surviving process claims its pending messages after claim.minIdleMs and handles them',
    { timeout: 60_000 },
    onPrivateRedis(scenario),
  );
});

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:dead-process';
  const group = 'g';
  const base = {
    url: server.url,
    stream,
    group,
    concurrency: 8,
    blockMs: 300,
    handlerMs: [50, 150] as [number, number],
    claim: { minIdleMs: MIN_IDLE_MS, intervalMs: 300 },
  };
  const victim = startWorker({ ...base, consumers: ['victim'] }, ledger, 'victim');
  const survivor = startWorker({ ...base, consumers: ['survivor'] }, ledger, 'survivor');
  try {
    await within(Promise.all([victim.ready, survivor.ready]), 20_000, 'both processes to be ready');
    await publishMany(admin, stream, 400, ledger);
    await eventually(() => victim.handled >= 50, 15_000, 'the victim to handle 50 messages');

    await victim.kill();
    const killedAt = Date.now();
    const orphans = await pendingIds(admin, stream, group, 'victim');
    expect(orphans.length).toBeGreaterThan(0); // it died holding a batch
    const handledBefore = new Set(orphans.filter((id) => ledger.timesHandled(id) > 0));
    // What the victim handled and is no longer pending was acked before it died.
    const pendingAtKill = new Set(orphans);
    const ackedByVictim = ledger.publishedIds.filter(
      (id) => ledger.handlersOf(id).has('victim') && !pendingAtKill.has(id),
    );
    expect(ackedByVictim.length).toBeGreaterThan(0);

    await ledger.waitUntilSettled(orphans, 20_000);
    const firstClaimAfter = Date.now() - killedAt;
    await ledger.waitUntilSettled(ledger.publishedIds, 30_000);
    for (const id of orphans) expect(ledger.handlersOf(id).has('survivor'), id).toBe(true);
    // Nothing the dead process acked is handled again: claims take only what it left pending.
    const handledAgain = ackedByVictim.filter((id) => ledger.timesHandled(id) !== 1);
    expect(handledAgain, 'acked by the victim, then handled again').toEqual([]);
    // Claimed only once idle for claim.minIdleMs (a little clock slack aside).
    expect(firstClaimAfter).toBeGreaterThanOrEqual(MIN_IDLE_MS - 300);
    console.info(
      `[faults] consumer killed: ${orphans.length} orphaned, ${handledBefore.size} of them already handled (reported, not acked), all claimed by the survivor within ${firstClaimAfter} ms`,
    );
  } finally {
    await victim.kill();
    expect((await survivor.stop(15_000)).code, survivor.tail()).toBe(0);
  }
  await auditDeadLetters(admin, `${stream}:dead`, ledger);
  printLedger('consumer killed', ledger);
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(await pendingIds(admin, stream, group)).toEqual([]);
}
