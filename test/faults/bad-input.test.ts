import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type Runtime } from '../../src/index.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import type { Ledger } from '../helpers/ledger.js';
import {
  auditDeadLetters,
  eventually,
  type FaultContext,
  heapAfterGc,
  onPrivateRedis,
  pendingIds,
  printLedger,
  testLogger,
} from './fault-support.js';

// Fault 8: bad input mixed into normal traffic. Each kind has its defined path (docs/contract.md, "Delivery semantics"):
// - no `type` (or an empty one)           → dead letter, reason missing-type
// - invalid JSON `payload`                → dead letter, reason malformed-payload
// - a 5 MiB payload (limit 1 MiB)         → dead letter, reason malformed-payload (never parsed)
// - binary (not UTF-8) `payload` or header → dead letter, reason malformed-encoding (bytes intact:
//   test/integration/encoding.test.ts); before, its bytes were decoded to U+FFFD and handed on
// - thousands of unknown types            → acked and counted as unrouted (the default)
// Normal traffic keeps flowing (every normal message handled), and the heap after GC stays bounded:
// a second identical flood adds almost nothing to it.

afterEach(() => expectNoLeaks());

type Kind =
  | 'normal'
  | 'binary-header'
  | 'missing-type'
  | 'invalid-json'
  | 'binary-payload'
  | 'huge'
  | 'unknown';
const EXPECTED: Record<Kind, string> = {
  normal: 'handled',
  'binary-header': 'dead:malformed-encoding',
  'missing-type': 'dead:missing-type',
  'invalid-json': 'dead:malformed-payload',
  'binary-payload': 'dead:malformed-encoding',
  huge: 'dead:malformed-payload',
  unknown: 'unrouted-acked',
};
const HUGE = 'x'.repeat(5 * 1024 * 1024);

/** One flood: kinds interleaved at random; resolves id → kind. */
async function flood(
  redis: Redis,
  stream: string,
  ledger: Ledger,
  round: number,
): Promise<Map<string, Kind>> {
  const plan: Kind[] = [];
  const add = (kind: Kind, n: number) => {
    for (let i = 0; i < n; i++) plan.push(kind);
  };
  add('normal', 2000);
  add('binary-header', 200);
  add('missing-type', 200);
  add('invalid-json', 200);
  add('binary-payload', 100);
  add('huge', 6);
  add('unknown', 3000);
  plan.sort(() => Math.random() - 0.5);
  const kinds = new Map<string, Kind>();
  for (let start = 0; start < plan.length; start += 200) {
    const pipeline = redis.pipeline();
    const chunk = plan.slice(start, start + 200);
    for (const [i, kind] of chunk.entries()) {
      const seq = JSON.stringify({ seq: start + i, round });
      if (kind === 'normal') pipeline.xadd(stream, '*', 'type', 'job', 'payload', seq);
      else if (kind === 'binary-header')
        pipeline.xadd(
          stream,
          '*',
          'type',
          'job',
          'payload',
          seq,
          'blob',
          Buffer.concat([Buffer.from([0xff]), randomBytes(63)]),
        );
      else if (kind === 'missing-type')
        pipeline.xadd(stream, '*', ...(i % 2 ? ['payload', seq] : ['type', '', 'a', 'b']));
      else if (kind === 'invalid-json')
        pipeline.xadd(stream, '*', 'type', 'job', 'payload', `{"seq": ${start + i},`);
      else if (kind === 'binary-payload')
        pipeline.xadd(
          stream,
          '*',
          'type',
          'job',
          'payload',
          Buffer.concat([Buffer.from([0xff, 0xfe]), randomBytes(62)]),
        );
      else if (kind === 'huge') pipeline.xadd(stream, '*', 'type', 'job', 'payload', HUGE);
      else pipeline.xadd(stream, '*', 'type', `unknown.${round}.${start + i}`, 'payload', seq);
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [j, [error, id]] of results.entries()) {
      if (error) throw error;
      ledger.published(String(id));
      kinds.set(String(id), chunk[j]!);
    }
  }
  return kinds;
}

describe('fault: a flood of bad input mixed into normal traffic', () => {
  it(
    'every entry takes its defined path, normal traffic flows, memory stays bounded',
    { timeout: 90_000 },
    onPrivateRedis(scenario),
  );
});

function unrouted(runtime: Runtime<unknown>): number {
  return runtime.consumers.reduce((sum, c) => sum + (runtime.stats(c.id)?.unrouted ?? 0), 0);
}

function deadLettered(runtime: Runtime<unknown>): number {
  return runtime.consumers.reduce((sum, c) => sum + (runtime.stats(c.id)?.deadLettered ?? 0), 0);
}

async function scenario({ server, admin, ledger }: FaultContext): Promise<void> {
  const stream = 'sv:bad-input';
  const group = 'g';
  const router = new Router();
  router.on('job', async (message) => {
    ledger.handled(message.id);
  });
  const runtime = trackRuntime(
    createRuntime({
      storage: RedisStreamStorage.fromUrl(server.url),
      router,
      logger: testLogger(),
      consumers: ['b1', 'b2'].map((consumer) => ({
        stream,
        group,
        consumer,
        id: consumer,
        startId: '0',
        concurrency: 16,
      })),
    }),
  );
  const kinds = new Map<string, Kind>();
  const heaps: number[] = [];
  try {
    await runtime.start();
    heaps.push(heapAfterGc());
    for (const round of [1, 2]) {
      const ids = await flood(admin, stream, ledger, round);
      for (const [id, kind] of ids) kinds.set(id, kind);
      const expectedUnrouted = [...kinds.values()].filter((k) => k === 'unknown').length;
      const handled = [...ids].filter(([, k]) => EXPECTED[k] === 'handled').map(([id]) => id);
      await ledger.waitUntilSettled(handled, 30_000);
      await eventually(() => unrouted(runtime) === expectedUnrouted, 30_000, 'every unknown type acked');
      const expectedDead = [...kinds.values()].filter((k) => EXPECTED[k].startsWith('dead')).length;
      await eventually(() => deadLettered(runtime) === expectedDead, 30_000, 'every bad entry dead-lettered');
      heaps.push(heapAfterGc());
    }
  } finally {
    await runtime.stop({ timeoutMs: 5000 });
  }
  expect(await pendingIds(admin, stream, group)).toEqual([]); // everything acked, dead letters included
  const byReason = await auditDeadLetters(admin, `${stream}:dead`, ledger);
  for (const [id, kind] of kinds) if (kind === 'unknown') ledger.settledOtherwise(id, 'unrouted-acked');
  printLedger('bad input', ledger);
  for (const [id, kind] of kinds) {
    const path = ledger.timesHandled(id) > 0 ? 'handled' : (ledger.pathOf(id) ?? 'lost');
    if (path !== EXPECTED[kind]) expect({ id, kind, path }).toEqual({ id, kind, path: EXPECTED[kind] });
  }
  const report = ledger.report();
  expect(report.lost).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(byReason.get('missing-type')).toHaveLength(400);
  expect(byReason.get('malformed-payload')).toHaveLength(2 * (200 + 6));
  expect(byReason.get('malformed-encoding')).toHaveLength(2 * (200 + 100));
  // Bounded memory: the second flood (another 30 MiB of huge payloads, 3,000 more unknown types)
  // leaves the heap where the first one left it.
  const [base = 0, afterFirst = 0, afterSecond = 0] = heaps;
  const mib = (n: number) => Math.round(n / 1024 / 1024);
  console.info(
    `[faults] bad input: heap after GC ${mib(base)} → ${mib(afterFirst)} → ${mib(afterSecond)} MiB`,
  );
  expect(afterSecond - afterFirst).toBeLessThan(16 * 1024 * 1024);
  expect(afterSecond - base).toBeLessThan(48 * 1024 * 1024);
}
