// One page of a dead-letter stream for the dashboard's panel: counts by reason over the whole stream
// and the newest letters, read as previews (./dead-letters.ts), so big entries cost their preview.
import type { StreamStorage } from '../storage/stream-storage.js';
import { compareIds } from '../storage/validate.js';
import { type DeadLetter, PREVIEW_PAGE, readDeadLetters } from './dead-letters.js';

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
 * Scan a dead-letter stream once (previews, in pages of 100): count its dead letters by reason and
 * keep the newest `limit` that match, so the memory used is bounded by the page and the preview, not
 * by the stream nor by the size of its entries.
 *
 * @example
 * const page = await readDeadLetterPage(storage, 'orders:dead', { sourceStream: 'orders', limit: 20 })
 */
export async function readDeadLetterPage(
  storage: Pick<StreamStorage, 'range' | 'rangePreview'>,
  deadStream: string,
  options: DeadLetterPageOptions,
): Promise<DeadLetterPage> {
  const counts: Record<string, number> = {};
  const window: DeadLetter[] = [];
  let total = 0;
  let older = false;
  let start = '-';
  for (;;) {
    const page = await readDeadLetters(storage, deadStream, { start, end: '+', count: PREVIEW_PAGE });
    for (const letter of page) {
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
    if (page.length < PREVIEW_PAGE || last === undefined) break;
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
