import { assertTrimAcked, type TrimAckedOptions } from '../trim-acked.js';
import { type CommandContext, failure } from './redis-commands.js';
import { RedisScript } from './redis-scripts.js';

// Why one script: the bound (what every group has delivered and acked) and the XTRIM must be one
// atomic step. Computed in the client, a group created (or moved back with SETID) between the XINFO
// and the XTRIM would lose entries it has not read yet. A script touches one key, so it runs on the
// shard that holds the stream in a Cluster. XTRIM MINID is exact (no `~`): approximate trimming would
// only trim less, but exact keeps `XLEN` predictable. Redis 8.2's `XTRIM … ACKED` is not used: it
// trims a stream that has no group at all, and 7.0 is what must work.
//
// Ids are compared as decimal strings (Lua numbers are doubles; ids may hold 64-bit parts).

/** KEYS[1] stream; ARGV keepMs ('' for none), now ms ('' for the server's TIME). Replies entries trimmed. */
const TRIM_ACKED = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', key)
if #groups == 0 then return 0 end
local MAX = '18446744073709551615'
local function split(id)
  local dash = string.find(id, '-', 1, true)
  return string.sub(id, 1, dash - 1), string.sub(id, dash + 1)
end
local function less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function idLess(a, b)
  local am, as = split(a)
  local bm, bs = split(b)
  if am ~= bm then return less(am, bm) end
  return less(as, bs)
end
local function incr(digits)
  local tail = ''
  for i = #digits, 1, -1 do
    local d = string.byte(digits, i) - 48
    if d < 9 then return string.sub(digits, 1, i - 1) .. string.char(d + 49) .. tail end
    tail = '0' .. tail
  end
  return '1' .. tail
end
local function after(id)
  local ms, seq = split(id)
  if seq ~= MAX then return ms .. '-' .. incr(seq) end
  if ms ~= MAX then return incr(ms) .. '-0' end
  return id
end
local bound = nil
for i = 1, #groups do
  local info, name, last, pending = groups[i], nil, nil, 0
  for j = 1, #info, 2 do
    local field = info[j]
    if field == 'name' then name = info[j + 1]
    elseif field == 'last-delivered-id' then last = info[j + 1]
    elseif field == 'pending' then pending = info[j + 1] end
  end
  local keep = after(last)
  if pending > 0 then
    local oldest = redis.call('XPENDING', key, name, '-', '+', 1)[1]
    if oldest and idLess(oldest[1], keep) then keep = oldest[1] end
  end
  if bound == nil or idLess(keep, bound) then bound = keep end
end
if ARGV[1] ~= '' then
  local now = tonumber(ARGV[2])
  if ARGV[2] == '' then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  local recent = now - tonumber(ARGV[1])
  if recent < 0 then recent = 0 end
  local keep = string.format('%.0f', recent) .. '-0'
  if idLess(keep, bound) then bound = keep end
end
return redis.call('XTRIM', key, 'MINID', bound)
`;

const trimAckedScript = new RedisScript(TRIM_ACKED);

/**
 * Trim the entries of `stream` that every consumer group has delivered and acked (see
 * `StreamStorage.trimAcked`), in one script. Resolves how many entries were removed.
 *
 * @example
 * await trimAcked(ctx, 'orders', { keepMs: 3_600_000 })   // 1200
 */
export async function trimAcked(
  ctx: CommandContext,
  stream: string,
  options: TrimAckedOptions = {},
): Promise<number> {
  assertTrimAcked(stream, options);
  const args = [options.keepMs ?? '', options.now ?? ''];
  try {
    return Number(await trimAckedScript.run(ctx.send, stream, args));
  } catch (error) {
    throw failure(ctx, error, 'XTRIM', stream, undefined);
  }
}
