import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-blocking-reads.js';
import { isReplyError } from './redis-errors.js';

// The promoter of RedisRetryScheduler. One atomic step per call, so any number of processes may
// promote the same set: a member is re-added to the stream (XADD) and removed from the set (ZREM)
// together, never twice. XADD comes first: if it fails mid-batch the script stops with the member
// still in the set, so nothing is lost (Redis does not roll back the earlier steps, which are done).
// Members are JSON `{"id": sourceId, "f": [field, value, …]}` written by the scheduler; one that is
// not (written by someone else) is left where it is and counted, never dropped silently.

/** KEYS[1] retry set, KEYS[2] stream; ARGV now (ms), batch. Replies {promoted, foreign, nextDueScore|nil}. */
const PROMOTE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local promoted, foreign = 0, 0
for i = 1, #due do
  local ok, message = pcall(cjson.decode, due[i])
  if ok and type(message) == 'table' and type(message.f) == 'table' and #message.f >= 2 then
    redis.call('XADD', KEYS[2], '*', unpack(message.f))
    redis.call('ZREM', KEYS[1], due[i])
    promoted = promoted + 1
  else
    foreign = foreign + 1
  end
end
local nextDue = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
return {promoted, foreign, nextDue[2] or false}
`;

/** What one promoter step did. */
export interface PromoteResult {
  /** Messages re-added to the stream. */
  promoted: number;
  /** Due members that are not scheduler members (left in the set). */
  foreign: number;
  /** Due time (ms since epoch) of the earliest message not yet due, if any. */
  nextDueAt: number | null;
}

const SHA = createHash('sha1').update(PROMOTE).digest('hex');

/** Run the promoter once on `retryKey` → `stream` (EVALSHA, EVAL once when the server lacks it). */
export async function promote(
  client: RedisClient,
  retryKey: string,
  stream: string,
  now: number,
  batch: number,
): Promise<PromoteResult> {
  let reply: unknown;
  try {
    reply = await client.call('EVALSHA', SHA, 2, retryKey, stream, now, batch);
  } catch (error) {
    if (!isReplyError(error) || !error.message.startsWith('NOSCRIPT')) throw error;
    reply = await client.call('EVAL', PROMOTE, 2, retryKey, stream, now, batch);
  }
  const [promoted, foreign, nextDue] = reply as [number, number, string | null | undefined];
  return {
    promoted: Number(promoted),
    foreign: Number(foreign),
    nextDueAt: nextDue === null || nextDue === undefined ? null : Number(nextDue),
  };
}

/** The sorted-set member of a scheduled message. */
export function encodeMember(id: string, fields: Readonly<Record<string, string>>): string {
  const flat: string[] = [];
  for (const key of Object.keys(fields)) flat.push(key, fields[key] as string);
  return JSON.stringify({ id, f: flat });
}
