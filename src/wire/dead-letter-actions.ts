// Replaying and purging dead letters: one implementation behind `streamvisor dlq replay|purge` and the
// dashboard's buttons, so both resolve a selection, refuse bad input and replay the same way.

import { holdsReplacement } from '../storage/replacement-char.js';
import type { StreamFields, StreamStorage } from '../storage/stream-storage.js';
import { belongsTo, NO_REASON, readDeadLetterPage } from './dead-letter-page.js';
import { type DeadLetter, isPartial, SCAN_PAGE, selectDeadLetters, toDeadLetter } from './dead-letters.js';
import { DEAD_LETTER_HEADERS, REPLAYED_FROM_FIELD } from './headers.js';

/** Which dead letters an action touches: some ids, every one of a reason, or all. */
export type DeadLetterTarget = { ids: readonly string[] } | { reason: string } | { all: true };

/** What an action does to the dead letters it resolves. */
export type DeadLetterAction = 'replay' | 'purge';

/** Why a target was refused; nothing was touched. */
export type DeadLetterTargetProblem = 'unknown-ids' | 'other-stream' | 'no-such-reason';

/**
 * A target that names dead letters that are not there (or not of this stream). Nothing was touched;
 * the message says what to change.
 */
export class DeadLetterTargetError extends Error {
  override name = 'DeadLetterTargetError';
  readonly problem: DeadLetterTargetProblem;
  /** The offending ids, or the reason. */
  readonly subjects: readonly string[];

  constructor(message: string, problem: DeadLetterTargetProblem, subjects: readonly string[]) {
    super(message);
    this.problem = problem;
    this.subjects = subjects;
  }
}

/** Where one dead letter went on replay. */
export interface Replayed {
  deadLetterId: string;
  stream: string;
  id: string;
}

/**
 * A replay that stopped because a message could not be written back (Redis out of memory, a lost
 * connection): `replayed` went back and left the dead-letter stream; `failedId` and every later one
 * are still dead letters.
 */
export class ReplayError extends Error {
  override name = 'ReplayError';
  readonly replayed: readonly Replayed[];
  readonly failedId: string;
  readonly remaining: readonly string[];

  constructor(
    message: string,
    parts: { replayed: Replayed[]; failedId: string; remaining: string[] },
    cause: unknown,
  ) {
    super(message, { cause });
    this.replayed = parts.replayed;
    this.failedId = parts.failedId;
    this.remaining = parts.remaining;
  }
}

/** How `resolveDeadLetters` checks a target. */
export interface ResolveOptions {
  /** For the messages: "nothing replayed" / "nothing purged". */
  action: DeadLetterAction;
  /** Refuse ids whose `x-source-stream` is another stream (a dead-letter stream shared by several). */
  sourceStream?: string;
  /** A reason with no dead letter is an error, not an empty selection. @default false */
  requireMatch?: boolean;
}

const done = (action: DeadLetterAction) => (action === 'replay' ? 'replayed' : 'purged');

/**
 * The dead letters of `deadStream` a target names, oldest first, as previews (see `readDeadLetters`:
 * enough to check and list them; `replayDeadLetters` reads each whole in its turn). Throws `DeadLetterTargetError`
 * (nothing touched) for ids that are not there or belong to another source stream, and, with
 * `requireMatch`, for a reason no dead letter has.
 *
 * @example
 * const letters = await resolveDeadLetters(storage, 'orders:dead', { reason: 'handler-error' }, { action: 'replay' })
 */
export async function resolveDeadLetters(
  storage: Pick<StreamStorage, 'range' | 'rangePreview'>,
  deadStream: string,
  target: DeadLetterTarget,
  options: ResolveOptions,
): Promise<DeadLetter[]> {
  const nothing = `nothing ${done(options.action)}`;
  if ('ids' in target) {
    const { letters, missing } = await selectDeadLetters(storage, deadStream, {
      ids: target.ids,
    });
    if (missing.length > 0) {
      throw new DeadLetterTargetError(
        `no dead letter ${missing.join(', ')} in ${deadStream}; ${nothing} (list them again: they may have been replayed or purged)`,
        'unknown-ids',
        missing,
      );
    }
    const foreign = letters.filter((letter) => !belongsTo(letter, options.sourceStream));
    if (foreign.length > 0) {
      throw new DeadLetterTargetError(
        `dead letter ${foreign.map((l) => `${l.id} (from ${l.sourceStream})`).join(', ')} is not of stream ${options.sourceStream}; ${nothing} (act on it from its own stream)`,
        'other-stream',
        foreign.map((l) => l.id),
      );
    }
    return letters;
  }
  const reason = 'reason' in target ? target.reason : undefined;
  const { letters } = await selectDeadLetters(storage, deadStream, reason === undefined ? {} : { reason });
  const mine = letters.filter((letter) => belongsTo(letter, options.sourceStream));
  if (reason !== undefined && mine.length === 0 && options.requireMatch === true) {
    const { counts } = await readDeadLetterPage(storage, deadStream, {
      ...(options.sourceStream === undefined ? {} : { sourceStream: options.sourceStream }),
      limit: 1,
    });
    const present = Object.keys(counts).filter((r) => r !== NO_REASON);
    throw new DeadLetterTargetError(
      `no dead letter with reason "${reason}" in ${deadStream}; ${nothing} (reasons present: ${present.join(', ') || 'none'})`,
      'no-such-reason',
      [reason],
    );
  }
  return mine;
}

/**
 * The fields a replayed message is written with: the original fields, plus `x-replayed-from` (the
 * dead-letter id), without the dead-letter headers.
 *
 * @example
 * replayFields(letter) // { type: 'order.paid', payload: '{…}', 'x-replayed-from': '1700000000000-0' }
 */
export function replayFields(letter: DeadLetter): StreamFields {
  return { ...letter.fields, [REPLAYED_FROM_FIELD]: letter.id };
}

/**
 * Put dead letters back on their source stream (`x-source-stream`, else `fallbackStream`) and delete
 * them from `deadStream`, one by one: add first, then delete, so a crash in between duplicates a
 * message but never loses one. A preview (`resolveDeadLetters`' letters) is read whole just before it
 * is written back, so at most one whole entry is in memory at a time; one that is no longer there
 * (replayed or purged meanwhile) is skipped. When a message cannot be written back, stops with a `ReplayError`
 * that lists what was replayed; that dead letter and the later ones stay where they are.
 * `onProgress` is called after each.
 *
 * @example
 * await replayDeadLetters(storage, 'orders:dead', letters, 'orders', (done) => bar.update(done))
 */
export async function replayDeadLetters(
  storage: Pick<StreamStorage, 'add' | 'delete' | 'range' | 'copyEntry'>,
  deadStream: string,
  letters: readonly DeadLetter[],
  fallbackStream: string,
  onProgress: (done: number) => void = () => {},
): Promise<Replayed[]> {
  const replayed: Replayed[] = [];
  for (const [index, listed] of letters.entries()) {
    const letter = isPartial(listed) ? await readWhole(storage, deadStream, listed.id) : listed;
    if (letter === undefined) continue;
    const stream = letter.sourceStream ?? fallbackStream;
    let id: string;
    try {
      id = await writeBack(storage, deadStream, letter, stream);
    } catch (error) {
      const remaining = letters.slice(index).map((l) => l.id);
      throw new ReplayError(
        `cannot write dead letter ${letter.id} back to ${stream}: ${error instanceof Error ? error.message : String(error)}; ${replayed.length} replayed, ${remaining.length} left in ${deadStream}`,
        { replayed, failedId: letter.id, remaining },
        error,
      );
    }
    await storage.delete(deadStream, [letter.id]);
    replayed.push({ deadLetterId: letter.id, stream, id });
    onProgress(replayed.length);
  }
  return replayed;
}

async function readWhole(
  storage: Pick<StreamStorage, 'range'>,
  deadStream: string,
  id: string,
): Promise<DeadLetter | undefined> {
  const [entry] = await storage.range(deadStream, { start: id, end: id, count: 1 });
  return entry === undefined ? undefined : toDeadLetter(entry);
}

/**
 * Add the replayed message to `stream`. Fields read with U+FFFD may not be the bytes stored (a
 * `malformed-encoding` dead letter holds bytes that are not UTF-8): a storage of bytes copies them
 * from the dead letter itself (`copyEntry`), so the message goes back exactly as it was written.
 */
async function writeBack(
  storage: Pick<StreamStorage, 'add' | 'copyEntry'>,
  deadStream: string,
  letter: DeadLetter,
  stream: string,
): Promise<string> {
  if (storage.copyEntry !== undefined && holdsReplacement(letter.fields)) {
    const id = await storage.copyEntry(deadStream, letter.id, stream, {
      omit: DEAD_LETTER_HEADERS,
      fields: { [REPLAYED_FROM_FIELD]: letter.id },
    });
    if (id !== null) return id;
  }
  return storage.add(stream, replayFields(letter));
}

/**
 * Delete dead letters from `deadStream` in batches. Resolves how many were deleted.
 *
 * @example
 * await purgeDeadLetters(storage, 'orders:dead', letters.map((l) => l.id))
 */
export async function purgeDeadLetters(
  storage: Pick<StreamStorage, 'delete'>,
  deadStream: string,
  ids: readonly string[],
  onProgress: (done: number) => void = () => {},
): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += SCAN_PAGE) {
    deleted += await storage.delete(deadStream, ids.slice(i, i + SCAN_PAGE));
    onProgress(Math.min(i + SCAN_PAGE, ids.length));
  }
  return deleted;
}
