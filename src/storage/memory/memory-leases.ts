import type { Clock } from '../../clock.js';
import { StorageClosedError } from '../../errors/storage-closed-error.js';
import type { LeaseStore } from '../lease-store.js';
import { assertLease, assertName } from '../validate.js';

/**
 * `LeaseStore` in process, on the storage's clock (so a simulated clock expires leases and members in
 * tests), with the Redis one's semantics: a lease expires `ttlMs` after it was taken or renewed;
 * a member `ttlMs` after it was announced.
 */
export class MemoryLeases implements LeaseStore {
  readonly #clock: Clock;
  readonly #closed: () => boolean;
  readonly #leases = new Map<string, { owner: string; expiresAt: number }>();
  readonly #members = new Map<string, Map<string, number>>();

  constructor(clock: Clock, closed: () => boolean) {
    this.#clock = clock;
    this.#closed = closed;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.#open('leases.acquire');
    assertLease(key, owner, ttlMs);
    const holder = this.#holder(key);
    if (holder !== null && holder !== owner) return false;
    this.#leases.set(key, { owner, expiresAt: this.#clock.now() + ttlMs });
    return true;
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.#open('leases.renew');
    assertLease(key, owner, ttlMs);
    if (this.#holder(key) !== owner) return false;
    this.#leases.set(key, { owner, expiresAt: this.#clock.now() + ttlMs });
    return true;
  }

  async release(key: string, owner: string): Promise<boolean> {
    this.#open('leases.release');
    assertLease(key, owner);
    if (this.#holder(key) !== owner) return false;
    this.#leases.delete(key);
    return true;
  }

  async owners(keys: readonly string[]): Promise<(string | null)[]> {
    this.#open('leases.owners');
    for (const key of keys) assertName('key', key);
    return keys.map((key) => this.#holder(key));
  }

  async announce(key: string, member: string, ttlMs: number): Promise<string[]> {
    this.#open('leases.announce');
    assertLease(key, member, ttlMs);
    const now = this.#clock.now();
    let members = this.#members.get(key);
    if (members === undefined) {
      members = new Map();
      this.#members.set(key, members);
    }
    members.set(member, now + ttlMs);
    for (const [name, expiresAt] of members) if (expiresAt <= now) members.delete(name);
    return [...members.keys()].sort();
  }

  async leave(key: string, member: string): Promise<void> {
    this.#open('leases.leave');
    assertLease(key, member);
    this.#members.get(key)?.delete(member);
  }

  #holder(key: string): string | null {
    const lease = this.#leases.get(key);
    if (lease === undefined) return null;
    if (lease.expiresAt > this.#clock.now()) return lease.owner;
    this.#leases.delete(key);
    return null;
  }

  #open(method: string): void {
    if (this.#closed()) throw new StorageClosedError(method);
  }
}
