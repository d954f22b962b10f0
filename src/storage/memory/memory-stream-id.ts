import { RedisCommandError } from '../../errors/redis-command-error.js';

// Stream ids for the in-memory storage. Parts are kept as JS numbers: every id the storage generates
// comes from a millisecond clock and a per-ms sequence, far below 2^53. Ids given by callers may be
// as large as Redis allows (2^64 - 1 per part); they keep their exact text for display, and compare
// exactly against any id the storage can generate.

/** A parsed stream id `<ms>-<seq>` with its canonical text. */
export interface StreamId {
  readonly ms: number;
  readonly seq: number;
  /** Canonical text, as Redis prints it (no leading zeros). */
  readonly id: string;
}

/** One end of a range: an id and whether the range excludes it. */
export interface IdBound {
  readonly at: StreamId;
  readonly exclusive: boolean;
}

const U64_MAX = 18446744073709551615n;
const U64_MAX_NUMBER = Number(U64_MAX);

/** `0-0`, below every id a stream can hold. */
export const ZERO_ID: StreamId = { ms: 0, seq: 0, id: '0-0' };
const MAX_ID: StreamId = { ms: U64_MAX_NUMBER, seq: U64_MAX_NUMBER, id: `${U64_MAX}-${U64_MAX}` };

/** Order two ids: negative, 0 or positive, like a sort comparator. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

function invalidId(command: string): never {
  throw new RedisCommandError(command, 'ERR Invalid stream ID specified as stream command argument');
}

function parsePart(command: string, digits: string): { value: number; text: string } {
  // Fast path: short parts are exact as numbers.
  if (digits.length < 16) {
    const value = Number(digits);
    return { value, text: String(value) };
  }
  const big = BigInt(digits);
  if (big > U64_MAX) invalidId(command);
  return { value: Number(big), text: big.toString() };
}

/**
 * Parse an id already checked by `assertId` (`<digits>-<digits>`), or a partial id `<digits>`
 * whose sequence is `missingSeq`. Raises Redis' own error for parts beyond 2^64 - 1.
 */
export function parseId(command: string, text: string, missingSeq: 'min' | 'max' = 'min'): StreamId {
  const dash = text.indexOf('-');
  const ms = parsePart(command, dash === -1 ? text : text.slice(0, dash));
  if (dash === -1) {
    const seq =
      missingSeq === 'min' ? { value: 0, text: '0' } : { value: U64_MAX_NUMBER, text: String(U64_MAX) };
    return { ms: ms.value, seq: seq.value, id: `${ms.text}-${seq.text}` };
  }
  const seq = parsePart(command, text.slice(dash + 1));
  // Reuse the caller's string when it already is canonical (the common case): no allocation.
  const id = ms.text.length + seq.text.length + 1 === text.length ? text : `${ms.text}-${seq.text}`;
  return { ms: ms.value, seq: seq.value, id };
}

/** Canonical text of a full id checked by `assertId`, for map lookups. */
export function canonicalId(command: string, text: string): string {
  const dash = text.indexOf('-');
  const zeroLed =
    (text.charCodeAt(0) === 48 && dash > 1) || (text.charCodeAt(dash + 1) === 48 && text.length > dash + 2);
  if (!zeroLed && text.length < 32) return text;
  return parseId(command, text).id;
}

/**
 * Parse a range bound checked by `assertRangeBound`: `-`, `+`, `<ms>`, `<ms>-<seq>`, optionally
 * prefixed by `(`. Like Redis, an exclusive start at the largest id or an exclusive end at `0-0`
 * is an error.
 */
export function parseBound(command: string, text: string, side: 'start' | 'end'): IdBound {
  if (text === '-') return { at: ZERO_ID, exclusive: false };
  if (text === '+') return { at: MAX_ID, exclusive: false };
  const exclusive = text.startsWith('(');
  const at = parseId(command, exclusive ? text.slice(1) : text, side === 'start' ? 'min' : 'max');
  if (exclusive && side === 'start' && at.ms === U64_MAX_NUMBER && at.seq === U64_MAX_NUMBER) {
    throw new RedisCommandError(command, 'ERR invalid start ID for the interval');
  }
  if (exclusive && side === 'end' && at.ms === 0 && at.seq === 0) {
    throw new RedisCommandError(command, 'ERR invalid end ID for the interval');
  }
  return { at, exclusive };
}

/** Whether `id` is at or after a start bound. */
export function afterStart(id: StreamId, start: IdBound): boolean {
  const order = compareStreamIds(id, start.at);
  return start.exclusive ? order > 0 : order >= 0;
}

/** Whether `id` is at or before an end bound. */
export function beforeEnd(id: StreamId, end: IdBound): boolean {
  const order = compareStreamIds(id, end.at);
  return end.exclusive ? order < 0 : order <= 0;
}

/**
 * First index in `items[from..]` (sorted by id) whose id is at or after `start`: a binary search.
 */
export function seekStart<T extends StreamId>(items: readonly T[], from: number, start: IdBound): number {
  let low = from;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const item = items[mid];
    // Past the end counts as after any start (mid < high <= length, so it never is).
    if (item === undefined || afterStart(item, start)) high = mid;
    else low = mid + 1;
  }
  return low;
}
