/**
 * Leases and membership for partitions leased to one runtime at a time (`assignment: 'leased'`):
 * a lease is a key holding its owner's token with a TTL, taken only when free, renewed and released
 * only by its owner (compare-and-set, atomic); membership is a set of live runtimes, each entry
 * expiring unless announced again. Both storages have it (`storage.leases`); the Redis one keeps a
 * lease in one key (put it in its partition's hash slot) and the members in a sorted set scored by
 * expiry, on the server's clock; the memory one on its `clock`.
 *
 * @example
 * const leases = storage.leases
 * await leases?.acquire('orders:{3}:lease:billing', 'pod-1/ab12', 10_000) // true: pod-1 owns it
 * await leases?.renew('orders:{3}:lease:billing', 'pod-2/cd34', 10_000) // false: not the owner
 */
export interface LeaseStore {
  /**
   * Take `key` for `owner` for `ttlMs` when it is free (or expired), or extend it when `owner` holds it
   * already. Resolves whether `owner` holds it now.
   */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extend `key` to `ttlMs` from now only if `owner` still holds it. Resolves whether it did. */
  renew(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Delete `key` only if `owner` holds it. Resolves whether it did. */
  release(key: string, owner: string): Promise<boolean>;
  /** The current owner of each key (`null`: free), in the order of `keys`. */
  owners(keys: readonly string[]): Promise<(string | null)[]>;
  /**
   * Announce `member` as alive for `ttlMs` in the set `key`, drop the members whose time ran out, and
   * resolve the live members, sorted by name (every member computes the same ranking).
   */
  announce(key: string, member: string, ttlMs: number): Promise<string[]>;
  /** Remove `member` from the set `key` at once (a graceful leave). */
  leave(key: string, member: string): Promise<void>;
}
