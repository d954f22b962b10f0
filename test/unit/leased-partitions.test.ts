import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { streamStatus } from '../../src/cli/status-report.js';
import { resolveConsumers } from '../../src/runtime/runtime-options.js';
import { LeaseCluster } from '../helpers/lease-cluster.js';

describe('leased partitions on MemoryStreamStorage and a simulated clock', () => {
  it('gives each partition one owner, balances on join, and takes a dead runtime’s partitions after its leases expire', async () => {
    const c = new LeaseCluster({ partitions: 6, leaseTtlMs: 3_000 });
    const a = c.join('a');
    await c.driver.advance(2_000);
    expect(c.holders()).toEqual([['a'], ['a'], ['a'], ['a'], ['a'], ['a']]);
    const b = c.join('b');
    await c.driver.advance(5_000);
    const holders = c.holders();
    expect(holders.every((h) => h.length === 1)).toBe(true);
    expect(holders.filter((h) => h[0] === 'b')).toHaveLength(3);
    await c.publish(60, 6);
    await c.driver.advance(2_000);
    a.cut = true;
    await c.driver.advance(3_000 + 1_000 + 200);
    expect(c.holders()).toEqual([['b'], ['b'], ['b'], ['b'], ['b'], ['b']]);
    await c.publish(60, 6);
    await c.driver.waitFor(() => c.firstHandled.size === 120, { maxMs: 30_000 });
    await c.stop(a);
    await c.driver.advance(1_000);
    expect(await c.pendingCount()).toBe(0);
    expect(c.violations).toEqual([]);
    await c.stop(b);
  });
});

type Step =
  | { kind: 'join' }
  | { kind: 'leave' | 'crash'; who: number }
  | { kind: 'publish'; count: number }
  | { kind: 'advance'; ms: number };

const step = fc.oneof(
  { arbitrary: fc.constant<Step>({ kind: 'join' }), weight: 2 },
  { arbitrary: fc.nat(9).map((who): Step => ({ kind: 'leave', who })), weight: 1 },
  { arbitrary: fc.nat(9).map((who): Step => ({ kind: 'crash', who })), weight: 1 },
  {
    arbitrary: fc.integer({ min: 1, max: 30 }).map((count): Step => ({ kind: 'publish', count })),
    weight: 3,
  },
  { arbitrary: fc.integer({ min: 100, max: 4_000 }).map((ms): Step => ({ kind: 'advance', ms })), weight: 4 },
);

describe('leased partitions: a model of join, leave, crash and expiry', () => {
  it('never has two holders of a partition; after a quiet period every partition has one live owner, shares balanced; nothing lost, order kept', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 3, maxLength: 14 }),
        fc.integer({ min: 1, max: 1e9 }),
        async (steps, seed) => {
          const TTL = 2_000;
          const failing = (key: string, seq: number) => (seed + seq * 31 + key.length) % 5 === 0;
          const c = new LeaseCluster({
            partitions: 6,
            leaseTtlMs: TTL,
            failsFirst: failing,
            handlerMs: (_, seq) => 5 + ((seq * 7 + seed) % 40),
          });
          const exclusive = () => {
            const shared = c.holders().findIndex((h) => h.length > 1);
            if (shared >= 0)
              throw new Error(`partition ${shared} held by ${c.holders()[shared]?.join(' and ')}`);
            return false;
          };
          let joined = 0;
          const live = () => c.members.filter((m) => !m.cut && !m.stopped);
          try {
            c.join(`r${joined++}`);
            for (const s of steps) {
              if (s.kind === 'join') c.join(`r${joined++}`);
              else if (s.kind === 'publish') await c.publish(s.count, 8);
              else if (s.kind === 'advance')
                await c.driver.waitFor(exclusive, { maxMs: s.ms }).catch(rethrowUnlessTimeout);
              else {
                const alive = live();
                const member = alive[s.who % Math.max(1, alive.length)];
                // Keep one runtime alive, or nothing could finish the work.
                if (member === undefined || alive.length === 1) continue;
                if (s.kind === 'crash') member.cut = true;
                else await c.stop(member);
              }
            }
            // Quiet: the dead runtimes' members and leases expire, the live ones balance.
            await c.driver.waitFor(exclusive, { maxMs: 4 * TTL }).catch(rethrowUnlessTimeout);
            const holders = c.holders();
            const names = new Set(live().map((m) => m.name));
            expect(holders.map((h) => h.length)).toEqual([1, 1, 1, 1, 1, 1]);
            expect(holders.every((h) => names.has(h[0] ?? ''))).toBe(true);
            const counts = [...names].map((name) => holders.filter((h) => h[0] === name).length);
            expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
            await c.driver.waitFor(() => c.firstHandled.size === c.published.length, { maxMs: 60_000 });
            await c.driver.advance(1_000);
            expect(c.violations).toEqual([]);
          } finally {
            for (const member of c.members) if (!member.stopped) await c.stop(member);
          }
          expect(await c.pendingCount()).toBe(0);
        },
      ),
      { numRuns: 25, seed: 23, endOnFailure: true },
    );
  }, 120_000);
});

function rethrowUnlessTimeout(error: unknown): void {
  if (!(error instanceof Error) || !error.message.startsWith('Condition not met')) throw error;
}

describe('leased partitions: options, snapshot and status', () => {
  it('rejects bad lease options with errors that say what to change', () => {
    const base = { stream: 'orders', group: 'g' };
    expect(() => resolveConsumers({ ...base, assignment: 'leased' }, 1)).toThrow(
      /consumers\[1\]\.partitions.*add `partitions: N`/,
    );
    expect(() =>
      resolveConsumers({ ...base, partitions: 2, assignment: 'leased', leaseTtlMs: 999 }, 0),
    ).toThrow(new RangeError('Expected `consumers[0].leaseTtlMs` to be at least 1000 ms, got 999'));
    expect(() => resolveConsumers({ ...base, partitions: 2, leaseTtlMs: 5_000 }, 0)).toThrow(
      /assignment: 'leased'/,
    );
    expect(() => resolveConsumers({ ...base, partitions: 2, assignment: 'x' as 'leased' }, 0)).toThrow(
      TypeError,
    );
    const [first] = resolveConsumers({ ...base, consumer: 'pod-1', partitions: 2, assignment: 'leased' }, 0);
    expect(first).toMatchObject({
      id: 'orders:{0}/g/pod-1',
      consumer: 'partition-0',
      lease: { ttlMs: 10_000, owner: 'pod-1' },
    });
  });

  it('reports each partition’s owner in the snapshot, the events and `status`; the consumer names the runtime', async () => {
    const c = new LeaseCluster({ partitions: 2, leaseTtlMs: 1_000 });
    const a = c.join('a');
    await c.driver.advance(500);
    const snapshot = a.runtime.snapshot();
    expect(snapshot.consumers.map((s) => s.consumer)).toEqual(['a', 'a']);
    expect(snapshot.partitions).toEqual([
      {
        consumerId: 'orders:{0}/billing/a',
        stream: 'orders:{0}',
        group: 'billing',
        partition: 0,
        owner: expect.stringMatching(/^a\//),
        mine: true,
      },
      {
        consumerId: 'orders:{1}/billing/a',
        stream: 'orders:{1}',
        group: 'billing',
        partition: 1,
        owner: expect.stringMatching(/^a\//),
        mine: true,
      },
    ]);
    const [status] = await streamStatus(c.storage, ['orders:{1}']);
    expect(status?.groups[0]?.owner).toBe(snapshot.partitions?.[1]?.owner);
    await c.stop(a);
    expect(
      a.events
        .filter((e) => e.type === 'partition.lease')
        .map((e) => e.type === 'partition.lease' && e.change),
    ).toEqual(['acquired', 'acquired', 'released', 'released']);
    // stop() released the leases at once: nothing waits for the TTL.
    expect(await c.storage.leases.owners(['orders:{0}:lease:billing', 'orders:{1}:lease:billing'])).toEqual([
      null,
      null,
    ]);
  });
});
