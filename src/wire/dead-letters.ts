// Reading dead letters (the wire format's `<stream>:dead` entries), shared by the CLI's `dlq`
// commands and the dashboard's dead-letter panel; the actions on them are in ./dead-letter-actions.ts.
// Lists read previews (each value cut to PREVIEW_VALUE_BYTES, on the Redis server): a dead-letter
// stream of 8 MiB entries must not bring 8 MiB per entry into the process (issue 25, item 6). The
// whole entry is read only for one letter on request (`loadDeadLetter`, with a size limit) and, one
// at a time, to replay it.
import type { PreviewEntry, RangePreviewOptions } from '../storage/preview-entry.js';
import { previewEntry } from '../storage/range-preview.js';
import type { RangeEntry, RangeOptions, StreamFields, StreamStorage } from '../storage/stream-storage.js';
import { DEAD_LETTER_HEADERS } from './headers.js';

const HEADERS = new Set<string>(DEAD_LETTER_HEADERS);
/** Ids per XDEL when purging. */
export const SCAN_PAGE = 500;
/** Dead letters per preview read while scanning a dead-letter stream. */
export const PREVIEW_PAGE = 100;
/** Longest field value in a list's preview of a dead letter, bytes. */
export const PREVIEW_VALUE_BYTES = 1024;
/** The bounds of a list's preview: the type and the dead-letter headers always, 32 other fields. */
const PREVIEW: Omit<RangePreviewOptions, keyof RangeOptions> = {
  maxValueBytes: PREVIEW_VALUE_BYTES,
  maxFields: 32,
  keep: ['type', ...DEAD_LETTER_HEADERS],
};
/** The default limit of a whole dead letter read on request (`dlq show`, the dashboard's detail), bytes. */
export const DEFAULT_MAX_DEAD_LETTER_BYTES = 1024 * 1024;

/** One dead letter as the CLI (`--json` prints exactly this) and the dashboard show it. */
export interface DeadLetter {
  /** The dead-letter entry id. */
  id: string;
  /** `x-dead-reason`, `null` when the entry has none (not written by streamvisor). */
  reason: string | null;
  error: string | null;
  /** `x-source-stream`: where `replay` puts the message back. */
  sourceStream: string | null;
  sourceId: string | null;
  group: string | null;
  deliveries: number | null;
  /** `x-dead-at`, ms since epoch. */
  deadAt: number | null;
  /** The original message's `type` field. */
  type: string | null;
  /** The original fields (without the dead-letter headers); in a list, a preview (see `truncated`). */
  fields: StreamFields;
  /** UTF-8 bytes of the whole dead-letter entry (every field name and value, the headers included). */
  bytes: number;
  /** Values cut short in this preview (headers included), with their full length in bytes; `{}` when whole. */
  truncated: Record<string, number>;
  /** Fields of the entry left out of this preview (beyond 32 fields); 0 when whole. */
  omittedFields: number;
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * Split a dead-letter entry (whole, or a `rangePreview` entry) into its headers and the original fields.
 *
 * @example
 * toDeadLetter({ id: '1-0', fields: { type: 't', 'x-dead-reason': 'handler-error' } }).reason // 'handler-error'
 */
export function toDeadLetter(entry: RangeEntry | PreviewEntry): DeadLetter {
  const fields: StreamFields = {};
  for (const [key, value] of Object.entries(entry.fields)) if (!HEADERS.has(key)) fields[key] = value;
  const f = entry.fields;
  return {
    id: entry.id,
    reason: f['x-dead-reason'] ?? null,
    error: f['x-dead-error'] ?? null,
    sourceStream: f['x-source-stream'] ?? null,
    sourceId: f['x-source-id'] ?? null,
    group: f['x-group'] ?? null,
    deliveries: numberOrNull(f['x-deliveries']),
    deadAt: numberOrNull(f['x-dead-at']),
    type: f.type ?? null,
    fields,
    ...('bytes' in entry
      ? { bytes: entry.bytes, truncated: { ...entry.truncated }, omittedFields: entry.omittedFields }
      : { bytes: entryBytes(entry.fields), truncated: {}, omittedFields: 0 }),
  };
}

function entryBytes(fields: StreamFields): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(fields))
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  return bytes;
}

/** Whether a dead letter is a preview that misses something (a value cut short, fields left out). */
export function isPartial(letter: DeadLetter): boolean {
  return letter.omittedFields > 0 || Object.keys(letter.truncated).length > 0;
}

/**
 * Previews of the dead letters in a range (values cut to 1 KiB, at most 32 fields besides the type and
 * the headers). Through `rangePreview` where the storage has it (Redis cuts on the server); a storage
 * without it is read whole and cut here.
 *
 * @example
 * const letters = await readDeadLetters(storage, 'orders:dead', { count: 100 })
 */
export async function readDeadLetters(
  storage: Pick<StreamStorage, 'range' | 'rangePreview'>,
  deadStream: string,
  range: RangeOptions,
): Promise<DeadLetter[]> {
  const entries =
    storage.rangePreview === undefined
      ? (await storage.range(deadStream, range)).map((entry) => previewEntry(entry, { ...PREVIEW }))
      : await storage.rangePreview(deadStream, { ...range, ...PREVIEW });
  return entries.map(toDeadLetter);
}

/** A whole dead letter asked for that is over the size limit: it was not read. */
export class DeadLetterTooLargeError extends Error {
  override name = 'DeadLetterTooLargeError';
  readonly id: string;
  /** The entry's size, bytes. */
  readonly bytes: number;
  /** The limit it is over, bytes. */
  readonly limit: number;

  constructor(deadStream: string, id: string, bytes: number, limit: number) {
    super(
      `dead letter ${id} in ${deadStream} is ${bytes} bytes, over the limit of ${limit} bytes for reading one whole`,
    );
    this.id = id;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/**
 * One whole dead letter, or `undefined` when there is none with this id. Its size is read first (a
 * preview): over `maxBytes` it throws `DeadLetterTooLargeError` without reading the entry.
 *
 * @example
 * const letter = await loadDeadLetter(storage, 'orders:dead', '1700000000000-0', { maxBytes: 1024 * 1024 })
 */
export async function loadDeadLetter(
  storage: Pick<StreamStorage, 'range' | 'rangePreview'>,
  deadStream: string,
  id: string,
  options: { maxBytes: number },
): Promise<DeadLetter | undefined> {
  const one = { start: id, end: id, count: 1 };
  if (storage.rangePreview !== undefined) {
    const [size] = await storage.rangePreview(deadStream, { ...one, maxValueBytes: 1, maxFields: 0 });
    if (size === undefined) return undefined;
    if (size.bytes > options.maxBytes) {
      throw new DeadLetterTooLargeError(deadStream, id, size.bytes, options.maxBytes);
    }
  }
  const [entry] = await storage.range(deadStream, one);
  if (entry === undefined) return undefined;
  const letter = toDeadLetter(entry);
  if (letter.bytes > options.maxBytes) {
    throw new DeadLetterTooLargeError(deadStream, id, letter.bytes, options.maxBytes);
  }
  return letter;
}

/** Which dead letters a command acts on. */
export interface Selection {
  ids?: readonly string[];
  reason?: string;
  /** Stop after this many (for `list`). @default all */
  limit?: number;
}

/**
 * Previews of the dead letters of `deadStream` that match `selection`, oldest first. With `ids`,
 * missing ids are returned in `missing` (the order of `ids` is kept); otherwise the stream is read in
 * pages.
 *
 * @example
 * const { letters } = await selectDeadLetters(storage, 'orders:dead', { reason: 'handler-error' })
 */
export async function selectDeadLetters(
  storage: Pick<StreamStorage, 'range' | 'rangePreview'>,
  deadStream: string,
  selection: Selection,
): Promise<{ letters: DeadLetter[]; missing: string[] }> {
  const letters: DeadLetter[] = [];
  const missing: string[] = [];
  const limit = selection.limit ?? Number.POSITIVE_INFINITY;
  const matches = (letter: DeadLetter) =>
    selection.reason === undefined || letter.reason === selection.reason;
  if (selection.ids !== undefined) {
    for (const id of new Set(selection.ids)) {
      const [letter] = await readDeadLetters(storage, deadStream, { start: id, end: id, count: 1 });
      if (letter === undefined) missing.push(id);
      else if (matches(letter) && letters.length < limit) letters.push(letter);
    }
    return { letters, missing };
  }
  let start = '-';
  while (letters.length < limit) {
    const page = await readDeadLetters(storage, deadStream, { start, end: '+', count: PREVIEW_PAGE });
    for (const letter of page) {
      if (matches(letter)) letters.push(letter);
      if (letters.length >= limit) break;
    }
    const last = page.at(-1);
    if (page.length < PREVIEW_PAGE || last === undefined) break;
    start = `(${last.id}`;
  }
  return { letters, missing };
}
