// Reading dead letters (the wire format's `<stream>:dead` entries), shared by the CLI's `dlq`
// commands and the dashboard's dead-letter panel; the actions on them are in ./dead-letter-actions.ts.
import type { RangeEntry, StreamFields, StreamStorage } from '../storage/stream-storage.js';
import { compareIds } from '../storage/validate.js';
import { DEAD_LETTER_HEADERS } from './headers.js';

const HEADERS = new Set<string>(DEAD_LETTER_HEADERS);
/** Entries per XRANGE while scanning a dead-letter stream. */
export const SCAN_PAGE = 500;

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
  /** The original fields (without the dead-letter headers). */
  fields: StreamFields;
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * Split a dead-letter entry into its headers and the original fields.
 *
 * @example
 * toDeadLetter({ id: '1-0', fields: { type: 't', 'x-dead-reason': 'handler-error' } }).reason // 'handler-error'
 */
export function toDeadLetter(entry: RangeEntry): DeadLetter {
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
  };
}

/** Which dead letters a command acts on. */
export interface Selection {
  ids?: readonly string[];
  reason?: string;
  /** Stop after this many (for `list`). @default all */
  limit?: number;
}

/**
 * The dead letters of `deadStream` that match `selection`, oldest first. With `ids`, missing ids are
 * returned in `missing` (the order of `ids` is kept); otherwise the stream is read in pages.
 *
 * @example
 * const { letters } = await selectDeadLetters(storage, 'orders:dead', { reason: 'handler-error' })
 */
export async function selectDeadLetters(
  storage: Pick<StreamStorage, 'range'>,
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
      const [entry] = await storage.range(deadStream, { start: id, end: id, count: 1 });
      if (entry === undefined) missing.push(id);
      else if (matches(toDeadLetter(entry)) && letters.length < limit) letters.push(toDeadLetter(entry));
    }
    return { letters, missing };
  }
  let start = '-';
  while (letters.length < limit) {
    const page = await storage.range(deadStream, { start, end: '+', count: SCAN_PAGE });
    for (const entry of page) {
      const letter = toDeadLetter(entry);
      if (matches(letter)) letters.push(letter);
      if (letters.length >= limit) break;
    }
    const last = page.at(-1);
    if (page.length < SCAN_PAGE || last === undefined) break;
    start = `(${last.id}`;
  }
  return { letters, missing };
}

/** The key under which dead letters without `x-dead-reason` are counted. */
export const NO_REASON = '(none)';

/** What to read with `readDeadLetterPage`. */
export interface DeadLetterPageOptions {
  /** Only dead letters of this source stream (`x-source-stream`; entries without one count as its own). */
  sourceStream?: string;
  /** Only dead letters with this `x-dead-reason` in `letters` (the counts cover every reason). */
  reason?: string;
  /** Only dead letters older than this id (the `next` of the previous page). */
  before?: string;
  /** Page size, ≥ 1. */
  limit: number;
}

/** One page of dead letters, newest first, with the counts of the whole stream. */
export interface DeadLetterPage {
  /** Every dead letter of the source stream. */
  total: number;
  /** Dead letters by `x-dead-reason` (`(none)` for entries without one). */
  counts: Record<string, number>;
  /** Newest first, at most `limit`. */
  letters: DeadLetter[];
  /** Pass as `before` for the next (older) page; `null` on the last page. */
  next: string | null;
}

/**
 * Scan a dead-letter stream once (XRANGE in pages of 500): count its dead letters by reason and keep
 * the newest `limit` that match, so the memory used is bounded by the page, not by the stream.
 *
 * @example
 * const page = await readDeadLetterPage(storage, 'orders:dead', { sourceStream: 'orders', limit: 20 })
 */
export async function readDeadLetterPage(
  storage: Pick<StreamStorage, 'range'>,
  deadStream: string,
  options: DeadLetterPageOptions,
): Promise<DeadLetterPage> {
  const counts: Record<string, number> = {};
  const window: DeadLetter[] = [];
  let total = 0;
  let older = false;
  let start = '-';
  for (;;) {
    const page = await storage.range(deadStream, { start, end: '+', count: SCAN_PAGE });
    for (const entry of page) {
      const letter = toDeadLetter(entry);
      if (!belongsTo(letter, options.sourceStream)) continue;
      total++;
      const reason = letter.reason ?? NO_REASON;
      counts[reason] = (counts[reason] ?? 0) + 1;
      if (options.reason !== undefined && reason !== options.reason) continue;
      if (options.before !== undefined && compareIds(letter.id, options.before) >= 0) continue;
      window.push(letter);
      if (window.length > options.limit) {
        window.shift();
        older = true;
      }
    }
    const last = page.at(-1);
    if (page.length < SCAN_PAGE || last === undefined) break;
    start = `(${last.id}`;
  }
  return { total, counts, letters: window.reverse(), next: older ? (window.at(-1)?.id ?? null) : null };
}

/**
 * Whether a dead letter came from `sourceStream` (always true without one, and for entries that do not
 * say where they came from: they are in that stream's dead-letter stream).
 *
 * @example
 * belongsTo(letter, 'orders')
 */
export function belongsTo(letter: DeadLetter, sourceStream: string | undefined): boolean {
  return sourceStream === undefined || letter.sourceStream === null || letter.sourceStream === sourceStream;
}
