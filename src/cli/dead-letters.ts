import type { RangeEntry, StreamFields, StreamStorage } from '../index.js';

/** The headers a dead letter carries on top of the original fields (docs/contract.md, "Wire format"). */
export const DEAD_LETTER_HEADERS = [
  'x-dead-reason',
  'x-dead-error',
  'x-source-stream',
  'x-source-id',
  'x-group',
  'x-deliveries',
  'x-dead-at',
] as const;

const HEADERS = new Set<string>(DEAD_LETTER_HEADERS);
const PAGE = 500;

/** One dead letter as the CLI shows it (`--json` prints exactly this). */
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
  storage: StreamStorage,
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
    const page = await storage.range(deadStream, { start, end: '+', count: PAGE });
    for (const entry of page) {
      const letter = toDeadLetter(entry);
      if (matches(letter)) letters.push(letter);
      if (letters.length >= limit) break;
    }
    const last = page.at(-1);
    if (page.length < PAGE || last === undefined) break;
    start = `(${last.id}`;
  }
  return { letters, missing };
}

/** Where one dead letter went on replay. */
export interface Replayed {
  deadLetterId: string;
  stream: string;
  id: string;
}

/**
 * The fields a replayed message is written with: the original fields, plus `x-replayed-from` (the
 * dead-letter id), without the dead-letter headers.
 *
 * @example
 * replayFields(letter) // { type: 'order.paid', payload: '{…}', 'x-replayed-from': '1700000000000-0' }
 */
export function replayFields(letter: DeadLetter): StreamFields {
  return { ...letter.fields, 'x-replayed-from': letter.id };
}

/**
 * Put dead letters back on their source stream (`x-source-stream`, else `fallbackStream`) and delete
 * them from `deadStream`, one by one: add first, then delete, so a crash in between duplicates a
 * message but never loses one. `onProgress` is called after each.
 *
 * @example
 * await replayDeadLetters(storage, 'orders:dead', letters, 'orders', (done) => bar.update(done))
 */
export async function replayDeadLetters(
  storage: StreamStorage,
  deadStream: string,
  letters: readonly DeadLetter[],
  fallbackStream: string,
  onProgress: (done: number) => void = () => {},
): Promise<Replayed[]> {
  const replayed: Replayed[] = [];
  for (const letter of letters) {
    const stream = letter.sourceStream ?? fallbackStream;
    const id = await storage.add(stream, replayFields(letter));
    await storage.delete(deadStream, [letter.id]);
    replayed.push({ deadLetterId: letter.id, stream, id });
    onProgress(replayed.length);
  }
  return replayed;
}

/**
 * Delete dead letters from `deadStream` in batches. Resolves how many were deleted.
 *
 * @example
 * await purgeDeadLetters(storage, 'orders:dead', letters.map((l) => l.id))
 */
export async function purgeDeadLetters(
  storage: StreamStorage,
  deadStream: string,
  ids: readonly string[],
  onProgress: (done: number) => void = () => {},
): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += PAGE) {
    deleted += await storage.delete(deadStream, ids.slice(i, i + PAGE));
    onProgress(Math.min(i + PAGE, ids.length));
  }
  return deleted;
}
