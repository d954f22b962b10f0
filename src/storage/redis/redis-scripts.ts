import { createHash } from 'node:crypto';
import { isReplyError } from './redis-errors.js';

// XAUTOCLAIM and XCLAIM do not report delivery counts, and Redis 7 silently drops deleted entries
// from the PEL during XCLAIM. These scripts read what is missing with XPENDING inside the same atomic
// step. Each touches one key, so they are Cluster-safe. Both reply
// `{cursor, entries, deliveries, deletedIds}` (parsed by parseClaimScript).

/** KEYS[1] stream; ARGV group, consumer, minIdleMs, cursor, count. */
const AUTOCLAIM = `
local key, group = KEYS[1], ARGV[1]
local r = redis.call('XAUTOCLAIM', key, group, ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local entries = r[2]
local deliveries = {}
for i = 1, #entries do
  local id = entries[i][1]
  local p = redis.call('XPENDING', key, group, id, id, 1)[1]
  deliveries[i] = p and p[4] or 1
end
return {r[1], entries, deliveries, r[3] or {}}
`;

/** KEYS[1] stream; ARGV group, consumer, minIdleMs, id… */
const CLAIM = `
local key, group = KEYS[1], ARGV[1]
local was = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('XPENDING', key, group, id, id, 1)[1] then was[id] = true end
end
local entries = redis.call('XCLAIM', key, group, ARGV[2], ARGV[3], unpack(ARGV, 4))
local deliveries, claimed = {}, {}
for i = 1, #entries do
  local id = entries[i][1]
  claimed[id] = true
  local p = redis.call('XPENDING', key, group, id, id, 1)[1]
  deliveries[i] = p and p[4] or 1
end
local deleted = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if was[id] and not claimed[id] and not redis.call('XPENDING', key, group, id, id, 1)[1] then
    deleted[#deleted + 1] = id
    was[id] = nil
  end
end
return {'0-0', entries, deliveries, deleted}
`;

/**
 * KEYS[1] stream; ARGV group, minIdleMs, name to keep (or ''). Deletes the consumers idle at least
 * minIdleMs with nothing pending, in one atomic step: a consumer that reads between the check and the
 * delete cannot lose its pending entries (XGROUP DELCONSUMER drops them). Replies the names removed.
 */
const DELETE_IDLE_CONSUMERS = `
local key, group, minIdle, keep = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
local consumers = redis.call('XINFO', 'CONSUMERS', key, group)
local removed = {}
for i = 1, #consumers do
  local info, name, pending, idle = consumers[i], nil, nil, nil
  for j = 1, #info, 2 do
    local field = info[j]
    if field == 'name' then name = info[j + 1]
    elseif field == 'pending' then pending = info[j + 1]
    elseif field == 'idle' then idle = info[j + 1] end
  end
  if name and name ~= keep and pending == 0 and idle and idle >= minIdle then
    if redis.call('XGROUP', 'DELCONSUMER', key, group, name) == 0 then removed[#removed + 1] = name end
  end
end
return removed
`;

/** Sends one command and resolves its raw reply (ioredis' `call`, or `callBuffer` for Buffer replies). */
export type SendCommand = (command: string, ...args: (string | number | Buffer)[]) => Promise<unknown>;

/** A Lua script run by EVALSHA, falling back to EVAL once when the server does not know it yet. */
export class RedisScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Run with one key, or several of one Cluster slot (a Cluster routes it by their slot), through
   * `call`, e.g. `client.call`.
   */
  async run(
    call: SendCommand,
    key: string | readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const keys = typeof key === 'string' ? [key] : key;
    try {
      return await call('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isReplyError(error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return call('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}

/** XAUTOCLAIM + delivery counts of what it claimed. */
export const autoClaimScript = new RedisScript(AUTOCLAIM);
/** XCLAIM + delivery counts + ids removed from the PEL because their entries were deleted. */
export const claimScript = new RedisScript(CLAIM);
/** Delete the idle consumers of a group that have nothing pending; replies their names. */
export const deleteIdleConsumersScript = new RedisScript(DELETE_IDLE_CONSUMERS);
