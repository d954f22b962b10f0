import type { LeaseStore } from '../lease-store.js';
import { assertLease, assertName } from '../validate.js';
import { type CommandContext, failure } from './redis-commands.js';
import { RedisScript } from './redis-scripts.js';

// Each script touches one key (a lease in its partition's slot, or the member set), so each is
// Cluster-safe and atomic: no other runtime can take or renew a lease between the check and the write.

/** KEYS[1] lease; ARGV owner, ttlMs. Take it when free, extend it when ours. */
const ACQUIRE = new RedisScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/** KEYS[1] lease; ARGV owner, ttlMs. Compare-and-pexpire. */
const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/** KEYS[1] lease; ARGV owner. Compare-and-delete. */
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`);

/**
 * KEYS[1] member set; ARGV member, ttlMs. Scores are expiry times on the server's clock (TIME), so
 * the runtimes' clocks need not agree. The set itself expires when nobody announces any more.
 */
const ANNOUNCE = new RedisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`);

/** `LeaseStore` on Redis (see lease-store.ts): one key per lease, a sorted set of members. */
export class RedisLeases implements LeaseStore {
  readonly #ctx: () => CommandContext;

  /** `ctx`: the storage's command context; it throws `StorageClosedError` once the storage is closed. */
  constructor(ctx: () => CommandContext) {
    this.#ctx = ctx;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    assertLease(key, owner, ttlMs);
    return await this.#flag(ACQUIRE, 'acquire', key, [owner, ttlMs]);
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    assertLease(key, owner, ttlMs);
    return await this.#flag(RENEW, 'renew', key, [owner, ttlMs]);
  }

  async release(key: string, owner: string): Promise<boolean> {
    assertLease(key, owner);
    return await this.#flag(RELEASE, 'release', key, [owner]);
  }

  async owners(keys: readonly string[]): Promise<(string | null)[]> {
    for (const key of keys) assertName('key', key);
    const ctx = this.#ctx();
    // One GET per key: in a Cluster the keys live in different slots (MGET would be refused).
    return Promise.all(
      keys.map(async (key) => {
        try {
          const value = await ctx.send('GET', key);
          return value === null ? null : String(value);
        } catch (error) {
          throw failure(ctx, error, 'GET', key, undefined);
        }
      }),
    );
  }

  async announce(key: string, member: string, ttlMs: number): Promise<string[]> {
    assertLease(key, member, ttlMs);
    const ctx = this.#ctx();
    try {
      const reply = await ANNOUNCE.run(ctx.send, key, [member, ttlMs]);
      return (reply as unknown[]).map(String).sort();
    } catch (error) {
      throw failure(ctx, error, 'EVALSHA (announce)', key, undefined);
    }
  }

  async leave(key: string, member: string): Promise<void> {
    assertLease(key, member);
    const ctx = this.#ctx();
    try {
      await ctx.send('ZREM', key, member);
    } catch (error) {
      throw failure(ctx, error, 'ZREM', key, undefined);
    }
  }

  async #flag(script: RedisScript, what: string, key: string, args: (string | number)[]): Promise<boolean> {
    const ctx = this.#ctx();
    try {
      return Number(await script.run(ctx.send, key, args)) === 1;
    } catch (error) {
      throw failure(ctx, error, `EVALSHA (lease ${what})`, key, undefined);
    }
  }
}
