import { assertAckAndAdd } from '../entry-writes.js';
import type { EntryWrite } from '../stream-storage.js';
import { assertGroupExists, type CommandContext, failure } from './redis-commands.js';
import { RedisScript } from './redis-scripts.js';

/**
 * KEYS[1] the source stream, KEYS[2…] the stream of each entry; ARGV group, id, then per entry its
 * maxLen ('' for none), its number of field/value strings and those strings. Every target is checked
 * to be a stream (or missing) first: Redis does not roll a script back, so an XADD that failed after
 * the XACK would lose the outputs of an acked message. Replies 1 when the XACK acked the entry and
 * the XADDs ran, 0 when it was not pending (nothing written).
 */
const ACK_AND_ADD = `
for k = 2, #KEYS do
  local kind = redis.call('TYPE', KEYS[k]).ok
  if kind ~= 'stream' and kind ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. KEYS[k] .. ' holds a ' .. kind .. ', not a stream')
  end
end
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local i = 3
for k = 2, #KEYS do
  local maxLen, n = ARGV[i], tonumber(ARGV[i + 1])
  local args
  if maxLen == '' then args = {KEYS[k], '*'} else args = {KEYS[k], 'MAXLEN', '~', maxLen, '*'} end
  for j = i + 2, i + 1 + n do args[#args + 1] = ARGV[j] end
  redis.call('XADD', unpack(args))
  i = i + 2 + n
end
return 1
`;

const ackAndAddScript = new RedisScript(ACK_AND_ADD);

/**
 * XACK `id`, and only when it acked it, XADD `entries`, in one script (so on a Cluster every key must
 * share the source stream's slot). Resolves whether the entry was acked.
 */
export async function ackAndAdd(
  ctx: CommandContext,
  stream: string,
  group: string,
  id: string,
  entries: readonly EntryWrite[],
): Promise<boolean> {
  assertAckAndAdd(stream, group, id, entries);
  const keys = [stream];
  const args: (string | number)[] = [group, id];
  for (const entry of entries) {
    keys.push(entry.stream);
    const pairs: string[] = [];
    for (const name in entry.fields) {
      if (Object.hasOwn(entry.fields, name)) pairs.push(name, entry.fields[name] as string);
    }
    args.push(entry.maxLen ?? '', pairs.length, ...pairs);
  }
  let acked: number;
  try {
    acked = Number(await ackAndAddScript.run(ctx.send, keys, args));
  } catch (error) {
    throw failure(ctx, error, 'XACK', stream, group);
  }
  if (acked === 0) await assertGroupExists(ctx, stream, group);
  return acked === 1;
}
