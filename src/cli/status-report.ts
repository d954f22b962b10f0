import type { Redis } from 'ioredis';
import { NoGroupError, type StreamStorage } from '../index.js';
import { partitionLeaseKey } from '../wire/lease-keys.js';

/** One consumer of a group, as `status` reports it. */
interface ConsumerStatus {
  name: string;
  pending: number;
  idleMs: number;
}

/** One consumer group of a stream, as `status` reports it. */
interface GroupStatus {
  name: string;
  consumers: ConsumerStatus[];
  pending: number;
  /** Entries not yet delivered to the group; `null` when Redis cannot tell. */
  lag: number | null;
  lastDeliveredId: string;
  /** Age (ms) of the oldest pending entry, from its id's timestamp; `null` when nothing is pending. */
  oldestPendingAgeMs: number | null;
  /** Idle time (ms) of the oldest pending entry: since it was last delivered or touched. */
  oldestPendingIdleMs: number | null;
  /**
   * A leased partition's owner runtime (`assignment: 'leased'`), from its lease key; `null` when
   * free, not leased, or the stream is not a partition.
   */
  owner: string | null;
}

/** One stream, as `status --json` prints it. */
export interface StreamStatus {
  stream: string;
  length: number;
  /** Length of `<stream>:dead`. */
  deadLetters: number;
  groups: GroupStatus[];
}

const DEAD_SUFFIX = ':dead';

/**
 * Every stream key matching `pattern` (SCAN … TYPE stream), sorted. Dead-letter streams
 * (`<stream>:dead`) of a listed stream are left out: they show as its dead-letter count.
 *
 * @example
 * await findStreams(client, '*') // ['orders', 'payments']
 */
export async function findStreams(client: Redis, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const reply = (await client.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000, 'TYPE', 'stream')) as [
      string,
      string[],
    ];
    cursor = reply[0];
    for (const key of reply[1]) found.add(key);
  } while (cursor !== '0');
  return [...found]
    .filter((key) => !(key.endsWith(DEAD_SUFFIX) && found.has(key.slice(0, -DEAD_SUFFIX.length))))
    .sort();
}

/** Milliseconds since the time in a stream id (`<ms>-<seq>`). */
function ageOfId(id: string, now: number): number | null {
  const ms = Number(id.split('-')[0]);
  return Number.isFinite(ms) ? Math.max(0, now - ms) : null;
}

async function groupStatus(
  storage: StreamStorage,
  stream: string,
  group: { name: string; pending: number; lag: number | null; lastDeliveredId: string },
  now: number,
): Promise<GroupStatus | null> {
  try {
    const lease = partitionLeaseKey(stream, group.name);
    const [consumers, oldest, owners] = await Promise.all([
      storage.consumers(stream, group.name),
      group.pending > 0 ? storage.pending(stream, group.name, { count: 1 }) : Promise.resolve([]),
      lease === null || storage.leases === undefined ? [null] : storage.leases.owners([lease]),
    ]);
    const first = oldest[0];
    return {
      name: group.name,
      consumers: consumers.map((c) => ({ name: c.name, pending: c.pending, idleMs: c.idleMs })),
      pending: group.pending,
      lag: group.lag,
      lastDeliveredId: group.lastDeliveredId,
      oldestPendingAgeMs: first ? ageOfId(first.id, now) : null,
      oldestPendingIdleMs: first ? first.idleMs : null,
      owner: owners[0] ?? null,
    };
  } catch (error) {
    // The group was destroyed between XINFO GROUPS and now: it is simply gone.
    if (error instanceof NoGroupError) return null;
    throw error;
  }
}

/**
 * Length, dead-letter count, groups, consumers and pending state of each stream.
 *
 * @example
 * const report = await streamStatus(storage, ['orders'])
 */
export async function streamStatus(
  storage: StreamStorage,
  streams: readonly string[],
): Promise<StreamStatus[]> {
  const now = Date.now();
  const report: StreamStatus[] = [];
  for (const stream of streams) {
    const [length, deadLetters, groups] = await Promise.all([
      storage.length(stream),
      storage.length(`${stream}${DEAD_SUFFIX}`),
      storage.groups(stream),
    ]);
    const statuses = await Promise.all(groups.map((group) => groupStatus(storage, stream, group, now)));
    report.push({
      stream,
      length,
      deadLetters,
      groups: statuses.filter((s): s is GroupStatus => s !== null),
    });
  }
  return report;
}
