import { isRetriable } from '../../machines/classify-error.js';
import type { ConsumerDeps } from '../consumer-deps.js';

/** What the consumer machine's `createGroup` actor gets. */
export interface CreateGroupInput {
  stream: string;
  group: string;
  startId: string;
  /** `startId` is the last id this consumer saw, not its option. */
  remembered: boolean;
}

/** What it answers: the machine's `createGroup` output. */
export interface CreateGroupOutput {
  created: boolean;
  now: number;
  /** Set when the group was created at `0` below the last id seen: the consumer's new last id. */
  rewoundTo?: string;
}

/**
 * Create the consumer's group (ensureGroup) at `startId`, except when that is the last id seen and the
 * group is gone while the stream holds nothing at or past it: the stream was emptied or rewritten
 * (Redis restarted empty, possibly on a server whose clock is behind, which writes lower ids), and a
 * group created at the old id would skip every entry written below it, for good. Then the group is
 * created at `0` (nothing is lost; what is in the stream is new since the wipe), with a warning and a
 * `consumer.group-rewound` event. A check Redis refuses (an ACL without XINFO GROUPS or XRANGE)
 * leaves the old behaviour: the group is created at `startId`; connection errors go to backoff.
 */
export async function createGroup(deps: ConsumerDeps, input: CreateGroupInput): Promise<CreateGroupOutput> {
  const { storage, clock } = deps;
  const { stream, group, startId } = input;
  const behind = input.remembered && /^\d+-\d+$/.test(startId) ? await streamBehind(deps, input) : null;
  if (behind === null) {
    return { created: await storage.ensureGroup(stream, group, startId), now: clock.now() };
  }
  const created = await storage.ensureGroup(stream, group, '0');
  if (!created) return { created, now: clock.now() }; // another consumer created it meanwhile
  const empty = behind === 'empty';
  const why = empty
    ? 'the stream is empty'
    : 'every entry of the stream is below it (its ids went backwards)';
  deps.logger.warn(
    { lastSeenId: startId, streamEmpty: empty },
    `group recreated at 0, not at the last id seen ${startId}: ${why}; entries written since the stream was emptied or rewritten are delivered`,
  );
  if (deps.bus.active) {
    deps.bus.emit({
      type: 'consumer.group-rewound',
      at: clock.now(),
      consumerId: deps.spec.id,
      lastSeenId: startId,
      streamEmpty: empty,
      startId: '0',
    });
  }
  return { created, now: clock.now(), rewoundTo: '0-0' };
}

/**
 * `null` when the group exists or the stream holds an entry at or past `startId` (create as asked);
 * `'empty'` for an empty or missing stream; `'below'` when every entry is below `startId`.
 */
async function streamBehind(deps: ConsumerDeps, input: CreateGroupInput): Promise<'empty' | 'below' | null> {
  const { storage } = deps;
  const { stream, group, startId } = input;
  try {
    if ((await storage.groups(stream)).some((info) => info.name === group)) return null;
    if ((await storage.range(stream, { start: startId, count: 1 })).length > 0) return null;
    return (await storage.range(stream, { count: 1 })).length === 0 ? 'empty' : 'below';
  } catch (error) {
    if (isRetriable(error)) throw error; // connection trouble: back off and look again
    deps.logger.debug(
      { err: error },
      'could not compare the stream with the last id seen; creating the group there',
    );
    return null;
  }
}
