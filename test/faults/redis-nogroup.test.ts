import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  NoGroupError,
  RedisStreamStorage,
  Router,
  type RuntimeEvent,
} from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import type { RedisServer } from '../helpers/redis-server.js';
import {
  auditDeadLetters,
  delay,
  eventually,
  type FaultContext,
  onPrivateRedis,
  pendingIds,
  printLedger,
  startPublisher,
  testLogger,
} from './fault-support.js';

// Fault 2: the group vanishes four ways — Redis restarted empty, FLUSHALL, XGROUP DESTROY, the stream
// key deleted — under a live publisher. Every storage command that needs the group answers NOGROUP
// (read, claim, ack, pending); consumers exit `nogroup`, the supervisor restarts them, `creatingGroup`
// recreates the group (MKSTREAM) at the last id each consumer saw, and every message published after
// the fault is handled. What the fault itself destroyed (entries of a flushed or restarted-empty
// server not yet handled) is excused, and counted apart; after XGROUP DESTROY nothing is excused.

afterEach(() => expectNoLeaks());

type Fault = 'restart-empty' | 'flushall' | 'group-destroy' | 'key-delete';
const FAULTS: Fault[] = ['restart-empty', 'flushall', 'group-destroy', 'key-delete'];

/** Apply `fault` to `(stream, group)` and to the probe's `(probeStream, 'pg')`. */
async function inflict(fault: Fault, server: RedisServer, admin: Redis, stream: string, group: string) {
  if (fault === 'restart-empty') await server.restart({ keepData: false });
  else if (fault === 'flushall') await admin.flushall();
  else if (fault === 'group-destroy') {
    await admin.xgroup('DESTROY', stream, group);
    await admin.xgroup('DESTROY', probeStream, 'pg');
  } else await admin.del(stream, probeStream);
}

const probeStream = 'sv:probe';

/** Every group command on a vanished group rejects with NoGroupError. */
async function expectNoGroupEverywhere(storage: RedisStreamStorage, stream: string, group: string) {
  const outcomes = await Promise.allSettled([
    storage.readGroup(stream, group, 'probe', { count: 1 }),
    storage.readGroup(stream, group, 'probe', { count: 1, blockMs: 100 }),
    storage.autoClaim(stream, group, 'probe', { minIdleMs: 0, count: 10, cursor: '0-0' }),
    storage.claim(stream, group, 'probe', ['1-0'], { minIdleMs: 0 }),
    storage.ack(stream, group, ['1-0']),
    storage.pending(stream, group, { count: 10 }),
  ]);
  for (const outcome of outcomes) {
    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(NoGroupError);
  }
}

describe('fault: the consumer group vanishes (NOGROUP)', () => {
  it(
    'restart empty, FLUSHALL, XGROUP DESTROY, key deleted: group recreated, every later message handled',
    { timeout: 90_000 },
    onPrivateRedis(scenario),
  );
});

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:nogroup';
  const group = 'g';
  const router = new Router();
  router.on('job', async (message) => {
    await delay(1);
    ledger.handled(message.id);
  });
  const runtime = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url),
      router,
      logger: testLogger(),
      consumers: ['n1', 'n2'].map((consumer) => ({
        stream,
        group,
        consumer,
        id: consumer,
        startId: '0',
        concurrency: 4,
        blockMs: 300,
        claim: { minIdleMs: 2000, intervalMs: 1000 },
      })),
      supervisor: { maxRestarts: 100, backoff: { minMs: 20, maxMs: 200 } },
    }),
  );
  const events: RuntimeEvent[] = [];
  runtime.subscribe((event) => events.push(event));
  const count = (type: RuntimeEvent['type']) => events.filter((e) => e.type === type).length;
  const publisher = startPublisher(admin, stream, ledger, { batch: 5, intervalMs: 5 });
  const afterFaults: string[] = [];
  try {
    await runtime.start();
    let since = 0;
    for (const fault of FAULTS) {
      // Let the consumers catch up, so that what a destructive fault wipes is only the last moment's.
      await ledger.waitUntilSettled(ledger.publishedIds.slice(since), 20_000);
      const restarts = count('consumer.restarted');
      const created = count('consumer.group-created');
      const destructive = fault !== 'group-destroy';
      if (destructive) await publisher.pause();
      const mark = ledger.publishedIds.length;
      since = mark;
      if (destructive) ledger.excuse(ledger.publishedIds);
      // A probe group with a pending entry shares the fault: every command on it says NOGROUP.
      await admin.xgroup('CREATE', probeStream, 'pg', '0', 'MKSTREAM');
      await admin.xadd(probeStream, '*', 'type', 'x');
      await admin.xreadgroup('GROUP', 'pg', 'probe', 'COUNT', 1, 'STREAMS', probeStream, '>');
      await inflict(fault, server, admin, stream, group);
      const probe = RedisStreamStorage.fromUrl(server.url);
      try {
        await expectNoGroupEverywhere(probe, probeStream, 'pg');
      } finally {
        await probe.close();
      }
      await admin.del(probeStream);
      publisher.resume();
      // A server restarted empty drops every connection first: the consumers back off, and their way
      // back through `creatingGroup` recreates the group before a command can answer NOGROUP.
      if (fault !== 'restart-empty') {
        await eventually(() => count('consumer.restarted') > restarts, 15_000, `a restart after ${fault}`);
      }
      await eventually(() => count('consumer.group-created') > created, 15_000, `the group after ${fault}`);
      await eventually(
        () => ledger.publishedIds.length >= mark + 200,
        15_000,
        `200 published after ${fault}`,
      );
      const later = ledger.publishedIds.slice(mark);
      afterFaults.push(...later);
      await ledger.waitUntilSettled(later, 20_000);
    }
    await publisher.stop();
    await ledger.waitUntilSettled(afterFaults.concat(ledger.publishedIds.slice(-50)), 20_000);
  } finally {
    await publisher.stop();
    await runtime.stop({ timeoutMs: 5000 });
  }
  await auditDeadLetters(admin, `${stream}:dead`, ledger);
  printLedger('nogroup', ledger);
  expect(ledger.report(afterFaults).lost).toEqual([]);
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.excused).toBeLessThan(100);
  const exits = events.filter((e) => e.type === 'consumer.exited' && e.reason !== 'stopped');
  expect(exits.length).toBeGreaterThanOrEqual(FAULTS.length - 1);
  expect(exits.every((e) => e.type === 'consumer.exited' && e.reason === 'nogroup')).toBe(true);
  expect(count('runtime.failed')).toBe(0);
  expect(await pendingIds(admin, stream, group)).toEqual([]);
}
