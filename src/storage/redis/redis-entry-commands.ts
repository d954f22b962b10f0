import { holdsReplacement } from '../replacement-char.js';
import type {
  AddOptions,
  CopyEntryOptions,
  DeadLetterWrite,
  RangeEntry,
  RangeOptions,
  StreamFields,
} from '../stream-storage.js';
import {
  assertCount,
  assertFields,
  assertId,
  assertIds,
  assertName,
  assertOptions,
  assertRangeBound,
} from '../validate.js';
import { assertGroupExists, type CommandContext, failure } from './redis-commands.js';
import { copyArgs, readExact, readExactOrNull } from './redis-exact-entries.js';
import { parseRangeEntries } from './redis-replies.js';

// Commands on stream entries: XADD, XRANGE, XDEL, XLEN, and the XADD + XACK of a dead letter.

function xaddHead(stream: string, maxLen: number | undefined): (string | number | Buffer)[] {
  return maxLen === undefined ? [stream, '*'] : [stream, 'MAXLEN', '~', maxLen, '*'];
}

function xaddArgs(
  stream: string,
  fields: StreamFields,
  maxLen: number | undefined,
): (string | number | Buffer)[] {
  const args = xaddHead(stream, maxLen);
  for (const key in fields) {
    if (Object.hasOwn(fields, key)) args.push(key, fields[key] as string);
  }
  return args;
}

/** `XADD stream [MAXLEN ~ maxLen] * …fields`; resolves the new id. */
export async function add(
  ctx: CommandContext,
  stream: string,
  fields: StreamFields,
  options: AddOptions,
): Promise<string> {
  assertName('stream', stream);
  assertFields(fields);
  assertOptions(options);
  if (options.maxLen !== undefined) assertCount('maxLen', options.maxLen);
  try {
    return (await ctx.send('XADD', ...xaddArgs(stream, fields, options.maxLen))) as string;
  } catch (error) {
    throw failure(ctx, error, 'XADD', stream, undefined);
  }
}

/** `XRANGE stream start end [COUNT count]`. */
export async function range(
  ctx: CommandContext,
  stream: string,
  options: RangeOptions,
): Promise<RangeEntry[]> {
  assertName('stream', stream);
  assertOptions(options);
  const start = options.start ?? '-';
  const end = options.end ?? '+';
  assertRangeBound('start', start);
  assertRangeBound('end', end);
  if (options.count !== undefined) assertCount('count', options.count);
  try {
    const reply =
      options.count === undefined
        ? await ctx.send('XRANGE', stream, start, end)
        : await ctx.send('XRANGE', stream, start, end, 'COUNT', options.count);
    return parseRangeEntries(reply);
  } catch (error) {
    throw failure(ctx, error, 'XRANGE', stream, undefined);
  }
}

/** `XDEL stream …ids`; an empty list resolves 0 without a command. */
export async function deleteEntries(
  ctx: CommandContext,
  stream: string,
  ids: readonly string[],
): Promise<number> {
  assertName('stream', stream);
  assertIds('ids', ids);
  if (ids.length === 0) return 0;
  try {
    return Number(await ctx.send('XDEL', stream, ...ids));
  } catch (error) {
    throw failure(ctx, error, 'XDEL', stream, undefined);
  }
}

/** `XLEN stream`. */
export async function length(ctx: CommandContext, stream: string): Promise<number> {
  assertName('stream', stream);
  try {
    return Number(await ctx.send('XLEN', stream));
  } catch (error) {
    throw failure(ctx, error, 'XLEN', stream, undefined);
  }
}

/**
 * `XADD deadStream …` then `XACK sourceStream group id`. Two awaits, not a pipeline: the dead letter
 * must exist before the source is acked, a failed XADD must not be followed by the XACK, and in a
 * Cluster the two keys may live on different nodes. A missing group raises `NoGroupError` after the
 * dead letter was written (XACK answers 0 for it). With `letter.headers`, original fields read as
 * U+FFFD are replaced by the source entry's bytes (redis-exact-entries.ts).
 */
export async function deadLetter(ctx: CommandContext, letter: DeadLetterWrite): Promise<string> {
  assertOptions(letter, 'letter');
  assertName('deadStream', letter.deadStream);
  assertName('sourceStream', letter.sourceStream);
  assertName('group', letter.group);
  assertId('id', letter.id);
  assertFields(letter.fields);
  if (letter.headers !== undefined) assertFields(letter.headers);
  if (letter.maxLen !== undefined) assertCount('maxLen', letter.maxLen);
  let args = xaddArgs(letter.deadStream, letter.fields, letter.maxLen);
  const headers = letter.headers;
  if (headers !== undefined && holdsReplacement(letter.fields, headers)) {
    // The original fields may not be the bytes stored (not UTF-8): copy those from the source entry.
    const raw = await readExactOrNull(ctx, letter.sourceStream, letter.id);
    if (raw !== null) args = [...xaddHead(letter.deadStream, letter.maxLen), ...copyArgs(raw, headers)];
  }
  let id: string;
  try {
    id = (await ctx.send('XADD', ...args)) as string;
  } catch (error) {
    throw failure(ctx, error, 'XADD', letter.deadStream, undefined);
  }
  let acked: number;
  try {
    acked = Number(await ctx.send('XACK', letter.sourceStream, letter.group, letter.id));
  } catch (error) {
    throw failure(ctx, error, 'XACK', letter.sourceStream, letter.group);
  }
  if (acked === 0) await assertGroupExists(ctx, letter.sourceStream, letter.group);
  return id;
}

/** `XADD stream * …` of the bytes of entry `id` of `source` (see `StreamStorage.copyEntry`); `null` when it is not there. */
export async function copyEntry(
  ctx: CommandContext,
  source: string,
  id: string,
  stream: string,
  options: CopyEntryOptions,
): Promise<string | null> {
  assertName('source', source);
  assertId('id', id);
  assertName('stream', stream);
  assertOptions(options);
  if (options.omit !== undefined && !Array.isArray(options.omit)) {
    throw new TypeError('Expected `omit` to be an array of field names');
  }
  const fields = options.fields ?? {};
  if (options.fields !== undefined) assertFields(fields);
  let raw: Buffer[] | null;
  try {
    raw = await readExact(ctx, source, id);
  } catch (error) {
    throw failure(ctx, error, 'XRANGE', source, undefined);
  }
  if (raw === null) return null;
  try {
    return (await ctx.send('XADD', stream, '*', ...copyArgs(raw, fields, options.omit))) as string;
  } catch (error) {
    throw failure(ctx, error, 'XADD', stream, undefined);
  }
}
