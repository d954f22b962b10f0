import { describe, expect, it } from 'vitest';
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
