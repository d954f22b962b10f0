import { afterEach, describe, expect, it } from 'vitest';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import {
  auditDeadLetters,
  delay,
  type FaultContext,
  onPrivateRedis,
  pendingIds,
  printLedger,
  publishMany,
  startWorker,
  type WorkerProcess,
  within,
} from './fault-support.js';

// Fault 4: every client connection is killed (CLIENT KILL TYPE normal) again and again while two
// processes with two consumers each work through 50,000 messages. Each kill fails reads, acks and
// claims in flight; consumers back off and resume, acks are retried, lost read replies are claimed
// back after claim.minIdleMs. The test's own connection publishes and kills (CLIENT KILL skips the
// caller), so every published id is known.

afterEach(() => expectNoLeaks());

const MESSAGES = 50_000;
const KILL_EVERY_MS = 400;

describe('fault: client connections killed repeatedly', () => {
  it(
    '50,000 messages, 4 consumers in 2 processes: nothing lost',
    { timeout: 150_000 },
    onPrivateRedis(scenario),
  );
});

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:killed-clients';
  const group = 'g';
  const base = {
    url: server.url,
    stream,
    group,
    concurrency: 32,
    blockMs: 500,
    claim: { minIdleMs: 3000, intervalMs: 1000 },
    supervisor: { maxRestarts: 1000 },
  };
  const workers: WorkerProcess[] = [
    startWorker({ ...base, consumers: ['a1', 'a2'] }, ledger, 'process A'),
    startWorker({ ...base, consumers: ['b1', 'b2'] }, ledger, 'process B'),
  ];
  let killing = true;
  let kills = 0;
  let killer: Promise<void> = Promise.resolve();
  try {
    await within(Promise.all(workers.map((w) => w.ready)), 20_000, 'both processes to be ready');
    killer = (async () => {
      while (killing) {
        await delay(KILL_EVERY_MS);
        if (!killing) break;
        kills += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal'));
      }
    })();
    const started = Date.now();
    await publishMany(admin, stream, MESSAGES, ledger);
    await ledger.waitUntilSettled(ledger.publishedIds, 90_000);
    console.info(
      `[faults] client kill: ${MESSAGES} handled in ${Date.now() - started} ms, ${kills} connections killed`,
    );
  } finally {
    killing = false;
    await killer;
    const exits = await Promise.all(workers.map((w) => w.stop(15_000)));
    for (const [i, exit] of exits.entries()) {
      expect(exit, `${workers[i]!.tail()}`).toEqual({ code: 0, signal: null });
    }
  }
  await auditDeadLetters(admin, `${stream}:dead`, ledger);
  printLedger('client kill', ledger);
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.paths).toEqual({});
  expect(kills).toBeGreaterThan(10);
  expect(await pendingIds(admin, stream, group)).toEqual([]);
  // All four consumers took part.
  expect([...ledger.byConsumer.keys()].sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
  const fatal = workers.flatMap((w) => w.lines.filter((l) => l.sv === 'fatal'));
  expect(fatal).toEqual([]);
}
