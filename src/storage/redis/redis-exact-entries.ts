import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import { holdsReplacement } from '../replacement-char.js';
import type { StreamEntry, StreamFields } from '../stream-storage.js';
import type { SendCommand } from './redis-scripts.js';

// Bytes that are not UTF-8. Replies are decoded as UTF-8 strings: fast, and what every other path
// needs, but invalid bytes come out as U+FFFD for good. So an entry whose decoded fields hold U+FFFD
// is read again, that entry only, as bytes (XRANGE id id on a Buffer reply): if they are not UTF-8
// the entry is marked `malformedEncoding` (the runtime dead-letters it), and wherever the storage
// copies such an entry (a dead letter, a replay) it writes those bytes, not the decoded strings.
// Reading bytes needs `callBuffer` (every ioredis client has it) and `+xrange` in the ACL; without
// them an entry is used as decoded, as before.

/** What reading bytes needs: a send whose replies are Buffers, and where to say it could not. */
export interface ExactContext {
  readonly send: SendCommand;
  readonly sendBuffer: SendCommand | undefined;
  readonly logger: Pick<Logger, 'warn'> | undefined;
}

/**
 * Entry `id` of `stream` as stored: `[field, value, …]` as Buffers, or `null` when it is not there.
 * A client without `callBuffer` gives the decoded strings' bytes.
 */
export async function readExact(ctx: ExactContext, stream: string, id: string): Promise<Buffer[] | null> {
  const sendBuffer = ctx.sendBuffer;
  const reply = await (sendBuffer === undefined ? ctx.send : sendBuffer)('XRANGE', stream, id, id);
  const row: unknown = Array.isArray(reply) ? reply[0] : undefined;
  const flat: unknown = Array.isArray(row) ? row[1] : undefined;
  if (!Array.isArray(flat) || flat.length === 0) return null;
  return flat.map((part: unknown) => (Buffer.isBuffer(part) ? part : Buffer.from(String(part))));
}

/** `readExact` that never rejects: a refusal (no `+xrange`, Redis down) is logged, and `null`. */
export async function readExactOrNull(
  ctx: ExactContext,
  stream: string,
  id: string,
): Promise<Buffer[] | null> {
  try {
    return await readExact(ctx, stream, id);
  } catch (error) {
    ctx.logger?.warn(
      { stream, id, error: error instanceof Error ? error.message : String(error) },
      'could not read the bytes of an entry holding U+FFFD (grant +xrange); it is used as decoded',
    );
    return null;
  }
}

/**
 * Mark (in place) the entries whose bytes are not UTF-8 with `malformedEncoding: true`. Only entries
 * whose decoded fields hold U+FFFD are read again, all at once (one pipelined round trip).
 */
export async function markMalformed(
  ctx: ExactContext,
  stream: string,
  entries: StreamEntry[],
): Promise<StreamEntry[]> {
  const checks: Promise<void>[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as StreamEntry;
    if (!holdsReplacement(entry.fields)) continue;
    checks.push(
      readExactOrNull(ctx, stream, entry.id).then((raw) => {
        if (raw !== null && !raw.every((part) => isUtf8(part)))
          entries[i] = { ...entry, malformedEncoding: true };
      }),
    );
  }
  if (checks.length > 0) await Promise.all(checks);
  return entries;
}

/** Whether any entry's decoded fields hold U+FFFD (then `markMalformed` has something to check). */
export function anyReplacement(entries: readonly StreamEntry[]): boolean {
  for (let i = 0; i < entries.length; i++) {
    if (holdsReplacement((entries[i] as StreamEntry).fields)) return true;
  }
  return false;
}

/**
 * The field/value arguments of an XADD copying the entry `raw` (from `readExact`) byte for byte,
 * without its fields named in `omit` or in `fields`, then `fields`.
 */
export function copyArgs(
  raw: readonly Buffer[],
  fields: StreamFields,
  omit: readonly string[] = [],
): (string | Buffer)[] {
  const skip = new Set<string>(omit);
  for (const key in fields) skip.add(key);
  const args: (string | Buffer)[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as Buffer;
    // A name that is not UTF-8 decodes with U+FFFD, so it never equals a name given here.
    if (!skip.has(key.toString('utf8'))) args.push(key, raw[i + 1] as Buffer);
  }
  for (const key in fields) args.push(key, fields[key] as string);
  return args;
}
