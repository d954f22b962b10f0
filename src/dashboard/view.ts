/**
 * The page's model of the runtime: a compact, JSON-safe view built from `runtime.snapshot()` plus the
 * group's XINFO numbers, and the field-level diff between two views (what the page is sent).
 */
import type { PartitionSnapshot } from '../runtime/runtime-leases.js';
import type { ConsumerSnapshot, RuntimeSnapshot } from '../runtime/runtime-snapshot.js';
import type { TypeRow } from './type-tally.js';

/** Group numbers from `storage.groups(stream)` (XINFO GROUPS). */
export interface GroupNumbers {
  pending: number | null;
  lag: number | null;
}

/** One consumer as the page shows it. */
export interface ConsumerView {
  id: string;
  stream: string;
  group: string;
  consumer: string;
  state: string;
  restarts: number;
  lastExit: { reason: string; error: string | null } | null;
  inFlight: number;
  /** Ordering keys held by a failing message: their later messages wait behind it. */
  keysWaiting: number;
  processed: number;
  /** Messages processed per second over the last rate window. */
  rate: number;
  /** Failed handler attempts (a message that failed once, then succeeded, counts here too). */
  failed: number;
  /** Attempts retried in process. */
  retried: number;
  /** Messages retried after a failed attempt, once per delivery (since the dashboard started). */
  retriedMessages: number;
  /** Messages that ended dead-lettered. */
  deadLettered: number;
  deadLetteredByReason: Record<string, number>;
  scheduled: number;
  /** Outputs of `ctx.publish` written with their message's ack. */
  published: number;
  pending: number | null;
  lag: number | null;
  /** How many dispatch workers it is to run (`runtime.setConcurrency` changes it). */
  concurrency: number;
  /** Each worker; `batch` while its batch handler runs (`router.batch`): how many messages, the first's id. */
  workers: { id: string; state: string; attempt: number; batch: { size: number; firstId: string } | null }[];
  /** The busiest message types (refreshed once per group poll). */
  types: TypeRow[];
  /** With leased partitions (`assignment: 'leased'`): the partition this consumer reads, and its owner. */
  partition: PartitionView | null;
}

/** A leased partition as the page shows it (from `runtime.snapshot().partitions`). */
interface PartitionView {
  /** The partition's number, 0 … partitions - 1. */
  number: number;
  /** The logical stream it is a partition of (`orders` for `orders:{3}`). */
  of: string;
  /** The owner runtime's token (`<consumer name>/<random>`); null while free. */
  owner: string | null;
  /** This runtime owns it. */
  mine: boolean;
}

/** What the dashboard counts itself, from the runtime's events and handler calls. */
export interface ViewExtras {
  retriedMessages(consumerId: string): number;
  types(consumerId: string): TypeRow[];
}

const NO_EXTRAS: ViewExtras = { retriedMessages: () => 0, types: () => [] };

export interface DashboardView {
  status: RuntimeSnapshot['status'];
  consumers: ConsumerView[];
}

/** A diff: the changed top-level status, and per consumer id only the fields that changed. */
export interface ViewDiff {
  status?: RuntimeSnapshot['status'];
  consumers?: Record<string, Partial<ConsumerView>>;
}

export function groupKey(stream: string, group: string): string {
  return `${stream}\u0000${group}`;
}

export function toView(
  snapshot: RuntimeSnapshot,
  groups: ReadonlyMap<string, GroupNumbers>,
  rates: ReadonlyMap<string, number>,
  extras: ViewExtras = NO_EXTRAS,
): DashboardView {
  const partitions = new Map((snapshot.partitions ?? []).map((p) => [p.consumerId, p]));
  return {
    status: snapshot.status,
    consumers: snapshot.consumers.map((c: ConsumerSnapshot) => {
      const group = groups.get(groupKey(c.stream, c.group));
      return {
        id: c.id,
        stream: c.stream,
        group: c.group,
        consumer: c.consumer,
        state: c.state,
        restarts: c.restarts,
        lastExit: c.lastExit,
        inFlight: c.inFlight,
        keysWaiting: c.keysWaiting,
        processed: c.processed,
        rate: rates.get(c.id) ?? 0,
        failed: c.failed,
        retried: c.retried,
        retriedMessages: extras.retriedMessages(c.id),
        deadLettered: c.deadLettered,
        deadLetteredByReason: c.deadLetteredByReason,
        scheduled: c.scheduled,
        published: c.published,
        pending: group?.pending ?? null,
        lag: group?.lag ?? null,
        concurrency: c.concurrency,
        workers: c.workers.map((w) => ({
          id: w.id,
          state: w.state,
          attempt: w.attempt,
          batch: w.batchSize === null ? null : { size: w.batchSize, firstId: w.messageId ?? '' },
        })),
        types: extras.types(c.id),
        partition: partitionView(partitions.get(c.id)),
      };
    }),
  };
}

function partitionView(p: PartitionSnapshot | undefined): PartitionView | null {
  if (p === undefined) return null;
  const of = p.stream.endsWith(`:{${p.partition}}`)
    ? p.stream.slice(0, -`:{${p.partition}}`.length)
    : p.stream;
  return { number: p.partition, of, owner: p.owner, mine: p.mine };
}

/** The fields of `next` that differ from `previous`; `null` when nothing changed. */
export function diffView(previous: DashboardView, next: DashboardView): ViewDiff | null {
  const diff: ViewDiff = {};
  let changed = false;
  if (previous.status !== next.status) {
    diff.status = next.status;
    changed = true;
  }
  const before = new Map(previous.consumers.map((c) => [c.id, c]));
  for (const consumer of next.consumers) {
    const old = before.get(consumer.id);
    const fields: Partial<Record<keyof ConsumerView, unknown>> = {};
    let any = false;
    for (const key of Object.keys(consumer) as (keyof ConsumerView)[]) {
      if (old && same(old[key], consumer[key])) continue;
      fields[key] = consumer[key];
      any = true;
    }
    if (any) {
      diff.consumers ??= {};
      diff.consumers[consumer.id] = fields as Partial<ConsumerView>;
      changed = true;
    }
  }
  return changed ? diff : null;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
