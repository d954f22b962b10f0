import type { PreviewEntry, RangePreviewOptions } from '../preview-entry.js';
import { assertRangePreview, defineField, PREVIEW_MAX_FIELDS } from '../range-preview.js';
import type { StreamFields } from '../stream-storage.js';
import { type CommandContext, failure } from './redis-commands.js';
import { RedisScript } from './redis-scripts.js';

// XRANGE cut short on the server: a list of dead letters of 8 MiB each must not bring 8 MiB per entry
// into this process. The script reads the range in small XRANGE pages (one entry at a time while the
// entries are big, so it never holds more than about CALL_BYTES of them), and replies
// `{entries, more}`, per entry `{id, bytes, omittedFields, {name, value (cut), full length, …}}`.
// Reading an entry costs Redis its copy into Lua (~80 ms for 8 MiB on a loaded box), so one call
// stops once it has read CALL_BYTES and says `more`: the loop below goes on with another call, and
// Redis serves other clients in between instead of being blocked for a whole stream of big entries.

/**
 * KEYS[1] stream; ARGV start, end, count (-1: all), maxValueBytes, maxFields, bytes to read per call,
 * names to keep…
 */
const RANGE_PREVIEW = `
local key, cursor, last, count = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local cut, maxFields, budget = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local keep = {}
for i = 7, #ARGV do keep[ARGV[i]] = true end
local function head(s)
  local n = cut
  while n > 0 do
    local b = string.byte(s, n + 1)
    if b < 128 or b >= 192 then break end
    n = n - 1
  end
  return string.sub(s, 1, n)
end
local out, chunk, read, more = {}, 1, 0, 0
while count < 0 or #out < count do
  if read >= budget then
    more = 1
    break
  end
  local want = chunk
  if count >= 0 and count - #out < want then want = count - #out end
  local page = redis.call('XRANGE', key, cursor, last, 'COUNT', want)
  local biggest = 1
  for i = 1, #page do
    local id, flat = page[i][1], page[i][2]
    local bytes, omitted, room, fields = 0, 0, maxFields, {}
    for j = 1, #flat, 2 do
      local name, value = flat[j], flat[j + 1]
      bytes = bytes + #name + #value
      local kept = keep[name]
      if not kept and (room == 0 or #name > cut) then
        omitted = omitted + 1
      else
        if not kept then room = room - 1 end
        fields[#fields + 1] = name
        fields[#fields + 1] = #value > cut and head(value) or value
        fields[#fields + 1] = #value
      end
    end
    if bytes > biggest then biggest = bytes end
    read = read + bytes
    out[#out + 1] = {id, bytes, omitted, fields}
  end
  if #page < want then break end
  cursor = '(' .. out[#out][1]
  chunk = math.max(1, math.min(100, math.floor(budget / biggest)))
end
return {out, more}
`;

const rangePreviewScript = new RedisScript(RANGE_PREVIEW);

/** Entry bytes one script call reads (at least one entry): it bounds how long it blocks Redis. */
const CALL_BYTES = 4 * 1024 * 1024;

function parsePreview(reply: unknown, maxValueBytes: number, entries: PreviewEntry[]): boolean {
  const [list, more] = Array.isArray(reply) ? reply : [];
  for (const item of Array.isArray(list) ? list : []) {
    const [id, bytes, omitted, flat] = item as [unknown, unknown, unknown, unknown[]];
    const fields: StreamFields = {};
    const truncated: Record<string, number> = {};
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const name = String(flat[i]);
      const full = Number(flat[i + 2]);
      defineField(fields, name, String(flat[i + 1]));
      if (full > maxValueBytes) defineField(truncated, name, full);
    }
    entries.push({ id: String(id), bytes: Number(bytes), fields, truncated, omittedFields: Number(omitted) });
  }
  return Number(more) === 1;
}

/** `rangePreview` on Redis: one script (one key, so Cluster-safe) that cuts the entries on the server. */
export async function rangePreview(
  ctx: CommandContext,
  stream: string,
  options: RangePreviewOptions,
): Promise<PreviewEntry[]> {
  assertRangePreview(stream, options);
  const entries: PreviewEntry[] = [];
  const bounds = [options.maxValueBytes, options.maxFields ?? PREVIEW_MAX_FIELDS, CALL_BYTES];
  let start = options.start ?? '-';
  for (;;) {
    const count = options.count === undefined ? -1 : options.count - entries.length;
    const args = [start, options.end ?? '+', count, ...bounds, ...(options.keep ?? [])];
    let more: boolean;
    try {
      const reply = await rangePreviewScript.run(ctx.send, stream, args);
      more = parsePreview(reply, options.maxValueBytes, entries);
    } catch (error) {
      throw failure(ctx, error, 'XRANGE', stream, undefined);
    }
    const last = entries.at(-1);
    if (!more || last === undefined) return entries;
    start = `(${last.id}`;
  }
}
