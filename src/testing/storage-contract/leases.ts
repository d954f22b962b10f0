import { StorageClosedError } from '../../errors/storage-closed-error.js';
import type { LeaseStore } from '../../storage/lease-store.js';
import type { UseFixture } from '../storage-contract.js';
import { settle } from './support.js';
import { vitest } from './vitest.js';

/** The storage's lease store (optional: its cases are skipped on a storage without one). */
function leasesOf(use: UseFixture): LeaseStore | undefined {
  return use().storage.leases;
}

/** `leases` (optional): compare-and-set leases with a TTL, and a member set that expires. */
export function leaseCases(use: UseFixture): void {
  const { describe, expect, it } = vitest();
  describe('leases', () => {
    it('gives a free lease to one owner; others are refused until it is released', async (ctx) => {
      const leases = leasesOf(use);
      if (leases === undefined) return ctx.skip();
      const key = use().key('lease:{1}');
      expect(await leases.acquire(key, 'a', 60_000)).toBe(true);
      expect(await leases.acquire(key, 'b', 60_000)).toBe(false);
      expect(await leases.acquire(key, 'a', 60_000)).toBe(true);
      expect(await leases.owners([key, use().key('lease:{2}')])).toEqual(['a', null]);
      expect(await leases.release(key, 'b')).toBe(false);
      expect(await leases.renew(key, 'b', 60_000)).toBe(false);
      expect(await leases.owners([key])).toEqual(['a']);
      expect(await leases.release(key, 'a')).toBe(true);
      expect(await leases.release(key, 'a')).toBe(false);
      expect(await leases.acquire(key, 'b', 60_000)).toBe(true);
      expect(await leases.owners([key])).toEqual(['b']);
    });

    it('expires a lease not renewed within its TTL; a renewal extends it', async (ctx) => {
      const leases = leasesOf(use);
      if (leases === undefined) return ctx.skip();
      const f = use();
      const key = f.key('lease:{1}');
      expect(await leases.acquire(key, 'a', 1500)).toBe(true);
      await f.sleep(1000);
      expect(await leases.renew(key, 'a', 1500)).toBe(true);
      await f.sleep(1000);
      // 2000 ms after it was taken, 1000 after the renewal: still a's.
      expect(await leases.acquire(key, 'b', 1500)).toBe(false);
      await f.sleep(1200);
      expect(await leases.owners([key])).toEqual([null]);
      expect(await leases.renew(key, 'a', 1500)).toBe(false);
      expect(await leases.acquire(key, 'b', 1500)).toBe(true);
    });

    it('lists live members sorted by name, drops expired ones and those that left', async (ctx) => {
      const leases = leasesOf(use);
      if (leases === undefined) return ctx.skip();
      const f = use();
      const key = f.key('members');
      expect(await leases.announce(key, 'r2', 1500)).toEqual(['r2']);
      expect(await leases.announce(key, 'r1', 60_000)).toEqual(['r1', 'r2']);
      expect(await leases.announce(key, 'r3', 60_000)).toEqual(['r1', 'r2', 'r3']);
      await leases.leave(key, 'r3');
      await f.sleep(1700);
      expect(await leases.announce(key, 'r1', 60_000)).toEqual(['r1']);
    });

    it('checks its arguments and refuses once the storage is closed', async (ctx) => {
      const leases = leasesOf(use);
      if (leases === undefined) return ctx.skip();
      const f = use();
      const key = f.key('lease:{1}');
      const refused = await settle(leases.acquire(key, '', 1000));
      expect(refused).toBeInstanceOf(TypeError);
      expect((refused as Error).message).toMatch(/`owner`/);
      expect(await settle(leases.renew(key, 'a', 0))).toBeInstanceOf(TypeError);
      await f.storage.close();
      expect(await settle(leases.acquire(key, 'a', 1000))).toBeInstanceOf(StorageClosedError);
      expect(await settle(leases.announce(f.key('members'), 'a', 1000))).toBeInstanceOf(StorageClosedError);
    });
  });
}
