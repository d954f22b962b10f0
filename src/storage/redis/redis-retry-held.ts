import type { RedisClient } from './redis-blocking-reads.js';
import { isTransientReply } from './redis-errors.js';
import { decodeMember } from './redis-retry-scripts.js';

// The due members the promoter script hands back (redis-retry-scripts.ts): entries too wide for Lua's
// `unpack`, promoted here in a transaction, and entries Redis refused to re-add, dead-lettered here.
// Each is dealt with on its own, so none keeps the members behind it in the set.

/** How often a wide promotion is tried again when another client changed the set meanwhile. */
const WATCH_ATTEMPTS = 25;

/** The part of an ioredis `multi()` pipeline used here. */
interface Transaction {
  call(command: string, ...args: (string | number)[]): Transaction;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** Where held members go, and how. */
export interface HeldTarget {
  /** The scheduler's client (dead letters are plain commands on it). */
  client: RedisClient;
  /** A connection of its own for WATCH (a watch is per connection; shared ones would clear it). */
  watcher: () => RedisClient;
  retryKey: string;
  stream: string;
  deadStream: string;
  now: number;
}

/** What became of one held member. */
export type HeldOutcome =
  | { kind: 'promoted' }
  /** Gone or no longer due (another promoter took it), or the set kept changing: left for later. */
  | { kind: 'left' }
  /** Redis refused it for now (OOM, LOADING…): left for the next poll. */
  | { kind: 'transient'; error: string }
  | { kind: 'dead-lettered'; id: string; error: string };

/** Promote, leave or dead-letter one held member (see the file's comment). Rejects on connection errors. */
export async function settleHeld(
  target: HeldTarget,
  member: string,
  scriptError: string,
): Promise<HeldOutcome> {
  if (scriptError !== '') {
    if (isTransientReply(scriptError)) return { kind: 'transient', error: scriptError };
    return deadLetter(target, member, scriptError, true);
  }
  return promoteWide(target, member);
}

/**
 * `WATCH retry set` → still there and due? → `MULTI` XADD (every field) + ZREM `EXEC`: atomic like the
 * script (the keys share a slot, so this works on Cluster), and never twice: a change to the set
 * between WATCH and EXEC aborts it, and it is tried again.
 */
async function promoteWide(target: HeldTarget, member: string): Promise<HeldOutcome> {
  const connection = target.watcher();
  const { flat } = decodeMember(member);
  for (let attempt = 0; attempt < WATCH_ATTEMPTS; attempt++) {
    await connection.call('WATCH', target.retryKey);
    const score = await connection.call('ZSCORE', target.retryKey, member);
    if (score === null || score === undefined || Number(score) > target.now) {
      await connection.call('UNWATCH');
      return { kind: 'left' };
    }
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await (connection as unknown as { multi(): Transaction })
        .multi()
        .call('XADD', target.stream, '*', ...flat)
        .call('ZREM', target.retryKey, member)
        .exec();
    } catch (error) {
      // Refused while queueing (EXECABORT: OOM, arity…): nothing ran, the member is still in the set.
      const text = replyText(error);
      if (text === null) throw error;
      if (isTransientReply(text)) return { kind: 'transient', error: text };
      return deadLetter(target, member, text, true);
    }
    if (results === null) continue; // the set changed: look again
    const refused = results[0]?.[0];
    if (refused) {
      // XADD failed when it ran and ZREM ran anyway (MULTI does not roll back): the fields are only
      // in this process now, so they go to the dead-letter stream, or back to the set.
      return deadLetter(target, member, refused.message, false, Number(score));
    }
    return { kind: 'promoted' };
  }
  return { kind: 'left' };
}

/**
 * XADD the entry to the dead-letter stream, then ZREM it from the set (at least once: a crash in
 * between leaves it in the set, and two promoters at the same instant may both write it). With
 * `inSet` false the member was removed already; should the dead letter fail then, it is put back.
 */
async function deadLetter(
  target: HeldTarget,
  member: string,
  error: string,
  inSet: boolean,
  score?: number,
): Promise<HeldOutcome> {
  const { id, flat } = decodeMember(member);
  const why = `the scheduled retry could not be re-added to "${target.stream}": ${error}`;
  const fields = [
    ...flat,
    'x-dead-reason',
    'handler-error',
    'x-dead-error',
    why,
    'x-source-stream',
    target.stream,
    'x-source-id',
    id,
    'x-dead-at',
    String(target.now),
  ];
  try {
    const deadId = String(await target.client.call('XADD', target.deadStream, '*', ...fields));
    if (inSet) await target.client.call('ZREM', target.retryKey, member);
    return { kind: 'dead-lettered', id: deadId, error: why };
  } catch (failure) {
    if (!inSet) await target.client.call('ZADD', target.retryKey, score ?? target.now, member);
    throw failure;
  }
}

function replyText(error: unknown): string | null {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return null;
  // EXECABORT names the command's own refusal in previousErrors (ioredis).
  const previous = (error as { previousErrors?: Error[] }).previousErrors;
  const first = previous?.find((e) => e.name === 'ReplyError');
  return first ? first.message : error.message;
}
