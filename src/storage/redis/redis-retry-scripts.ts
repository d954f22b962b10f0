import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-blocking-reads.js';
import { isReplyError } from './redis-errors.js';

// The promoter of RedisRetryScheduler. One atomic step per call, so any number of processes may
// promote the same set: a member is re-added to the stream (XADD) and removed from the set (ZREM)
// together, never twice. XADD comes first: if it fails the member stays in the set, so nothing is lost.
// Members are JSON `{"id": sourceId, "f": [field, value, …]}` written by the scheduler; one that is
// not (written by someone else) is left where it is and counted, never dropped silently.
//
// What the script does not promote itself it hands back (`held`), and the scheduler deals with each
// one so that none blocks the members behind it (redis-retry-wide.ts):
// - an entry wider than WIDEST values: `unpack` puts every value on Lua's C stack, which holds about
//   8,000, and fails with "too many results to unpack" beyond; such an entry is promoted from the
//   client in a WATCH/MULTI transaction instead, with error '';
// - an entry whose XADD failed (redis.pcall), with Redis' error text: the scheduler leaves it for
//   the next poll when the error is transient (OOM, LOADING…) and dead-letters it otherwise.
// `offset` skips the due members an earlier call of the same run left in place, so members the
// script cannot move never hide the ones behind them from ZRANGEBYSCORE … LIMIT.

/** Most values (fields and values) of an entry the script promotes itself: well under Lua's ~8,000. */
const WIDEST = 4000;

/** KEYS[1] retry set, KEYS[2] stream; ARGV now (ms), batch, offset, widest. */
const PROMOTE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', tonumber(ARGV[3]), tonumber(ARGV[2]))
local widest = tonumber(ARGV[4])
local promoted, foreign, held = 0, 0, {}
for i = 1, #due do
  local ok, message = pcall(cjson.decode, due[i])
  if ok and type(message) == 'table' and type(message.f) == 'table' and #message.f >= 2 then
    if #message.f > widest then
      held[#held + 1] = due[i]
      held[#held + 1] = ''
    else
      local added = redis.pcall('XADD', KEYS[2], '*', unpack(message.f))
      if type(added) == 'table' and added.err then
        held[#held + 1] = due[i]
        held[#held + 1] = added.err
      else
        redis.call('ZREM', KEYS[1], due[i])
        promoted = promoted + 1
      end
    end
  else
    foreign = foreign + 1
  end
end
local nextDue = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
return {promoted, foreign, nextDue[2] or false, #due, held}
`;

/** What one promoter step did. */
export interface PromoteResult {
  /** Messages re-added to the stream. */
  promoted: number;
  /** Due members that are not scheduler messages (left in the set). */
  foreign: number;
  /** Due time (ms since epoch) of the earliest message not yet due, if any. */
  nextDueAt: number | null;
  /**
   * Due messages that could not be re-added to the stream (Redis refused their XADD with an error
   * that is not transient), moved to the dead-letter stream instead (reason `handler-error`, the
   * refusal in `x-dead-error`). Absent when none.
   */
  deadLettered?: number;
}

/** One script call: its counts, how many due members it looked at, and what it handed back. */
export interface PromoteStep {
  promoted: number;
  foreign: number;
  nextDueAt: number | null;
  /** Due members the call looked at. */
  scanned: number;
  /** Members the script did not promote: `error` '' for a wide entry, else Redis' XADD error. */
  held: Array<{ member: string; error: string }>;
}

const SHA = createHash('sha1').update(PROMOTE).digest('hex');

/** Run the promoter script once on `retryKey` → `stream` (EVALSHA, EVAL once when the server lacks it). */
export async function promoteStep(
  client: RedisClient,
  retryKey: string,
  stream: string,
  now: number,
  batch: number,
  offset: number,
): Promise<PromoteStep> {
  const args = [2, retryKey, stream, now, batch, offset, WIDEST];
  let reply: unknown;
  try {
    reply = await client.call('EVALSHA', SHA, ...args);
  } catch (error) {
    if (!isReplyError(error) || !error.message.startsWith('NOSCRIPT')) throw error;
    reply = await client.call('EVAL', PROMOTE, ...args);
  }
  const [promoted, foreign, nextDue, scanned, rawHeld] = reply as [
    number,
    number,
    string | null | undefined | false,
    number,
    unknown[] | undefined,
  ];
  const held: Array<{ member: string; error: string }> = [];
  const flat = Array.isArray(rawHeld) ? rawHeld : [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    held.push({ member: String(flat[i]), error: String(flat[i + 1]) });
  }
  return {
    promoted: Number(promoted),
    foreign: Number(foreign),
    nextDueAt: nextDue === null || nextDue === undefined || nextDue === false ? null : Number(nextDue),
    scanned: Number(scanned),
    held,
  };
}

/** The sorted-set member of a scheduled message. */
export function encodeMember(id: string, fields: Readonly<Record<string, string>>): string {
  const flat: string[] = [];
  for (const key of Object.keys(fields)) flat.push(key, fields[key] as string);
  return JSON.stringify({ id, f: flat });
}

/** The source id and fields of a scheduler member (already known to decode: the script checked it). */
export function decodeMember(member: string): { id: string; flat: string[] } {
  const parsed = JSON.parse(member) as { id?: unknown; f: unknown[] };
  return { id: String(parsed.id ?? ''), flat: parsed.f.map((value) => String(value)) };
}
