import type { AnyActorRef } from 'xstate';
import type { ConsumerStats } from '../actors/consumer-stats.js';
import { workerIndex } from '../machines/consumer-machine.js';
import type { SupervisorContext } from '../machines/supervisor-machine.js';
import type { PartitionSnapshot } from './runtime-leases.js';
import type { ResolvedConsumer } from './runtime-options.js';

export type RuntimeStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface WorkerSnapshot {
  id: string;
  state: string;
  /** Id of the message it works on, if any; for a batch, its first message's. */
  messageId: string | null;
  /** How many messages its batch handler is on (`router.batch`); null for a single message or none. */
  batchSize: number | null;
  attempt: number;
}

export interface ConsumerSnapshot {
  id: string;
  stream: string;
  group: string;
  consumer: string;
  /** The consumer machine's state; `restarting` while it waits for the supervisor's restart. */
  state: string;
  restarts: number;
  inFlight: number;
  /**
   * Ordering keys held by a failing message (retrying in process, or waiting in place for its
   * scheduled retry): their later messages wait until it succeeds or is dead-lettered.
   */
  keysWaiting: number;
  processed: number;
  /** Failed handler attempts. */
  failed: number;
  retried: number;
  deadLettered: number;
  deadLetteredByReason: Record<string, number>;
  /** Dead-letter writes that failed (each message stayed pending, to be dead-lettered when it comes back). */
  deadLetterFailures: number;
  scheduled: number;
  unrouted: number;
  /** Entries removed from the stream by this consumer's `retention` (every group had acked them). */
  trimmed: number;
  /**
   * Outputs of `ctx.publish` written with their message's ack. Outputs whose ack found the entry
   * acked already (another consumer finished it) were not written and are not counted.
   */
  published: number;
  lastExit: { reason: string; error: string | null } | null;
  /** How many dispatch workers the consumer is to run (`concurrency`, or the last `runtime.setConcurrency`). */
  concurrency: number;
  /**
   * Its dispatch worker actors, `w0 …` in order: `concurrency` of them once a change is done (after
   * shrinking, a worker above it stays listed until it finished its message).
   */
  workers: WorkerSnapshot[];
}

export interface RuntimeSnapshot {
  status: Exclude<RuntimeStatus, 'idle'>;
  consumers: ConsumerSnapshot[];
  /** With leased partitions (`assignment: 'leased'`): each partition and its owner runtime. */
  partitions?: PartitionSnapshot[];
}

interface SnapshotSource {
  status: Exclude<RuntimeStatus, 'idle'>;
  consumers: readonly ResolvedConsumer[];
  stats: Map<string, ConsumerStats>;
  children: Record<string, AnyActorRef | undefined>;
  context: SupervisorContext | null;
  lastExit: Map<string, { reason: string; error: string | null }>;
  partitions: PartitionSnapshot[] | null;
}

export function buildSnapshot(source: SnapshotSource): RuntimeSnapshot {
  const consumers = source.consumers.map((spec): ConsumerSnapshot => {
    const stats = source.stats.get(spec.id);
    if (stats === undefined)
      throw new Error(`No stats for consumer "${spec.id}": the runtime makes them for each`);
    const ref = source.children[spec.id];
    const child = ref?.getSnapshot() as
      | {
          value: unknown;
          status: string;
          children: Record<string, AnyActorRef | undefined>;
        }
      | undefined;
    let state: string;
    if (child) state = String(child.value);
    else if (source.status === 'running' || source.status === 'starting') state = 'restarting';
    else state = source.status === 'failed' ? 'exited' : 'stopped';
    const workers: WorkerSnapshot[] = [];
    let inFlight = 0;
    if (child) {
      const ids = Object.keys(child.children).filter((id) => workerIndex(id) >= 0);
      ids.sort((a, b) => workerIndex(a) - workerIndex(b));
      for (const id of ids) {
        // The worker actor's own state and context: `job` is the message its handlers are on.
        const worker = child.children[id]?.getSnapshot() as
          | {
              value: unknown;
              context: { job: { id: string; size?: number | null } | null; attempt: number };
            }
          | undefined;
        if (!worker) continue;
        const busy = worker.value !== 'idle';
        if (busy) inFlight++;
        workers.push({
          id,
          state: String(worker.value),
          messageId: busy ? (worker.context.job?.id ?? null) : null,
          batchSize: busy ? (worker.context.job?.size ?? null) : null,
          attempt: busy ? worker.context.attempt : 0,
        });
      }
    }
    return {
      id: spec.id,
      stream: spec.stream,
      group: spec.group,
      // A leased partition's reader belongs to the partition: name the runtime that owns it.
      consumer: spec.lease?.owner ?? spec.consumer,
      state,
      restarts: source.context?.restarts[spec.id] ?? 0,
      inFlight,
      keysWaiting: stats.keysWaiting,
      processed: stats.processed,
      failed: stats.failed,
      retried: stats.retried,
      deadLettered: stats.deadLettered,
      deadLetteredByReason: { ...stats.deadLetteredByReason },
      deadLetterFailures: stats.deadLetterFailures,
      scheduled: stats.scheduled,
      unrouted: stats.unrouted,
      trimmed: stats.trimmed,
      published: stats.published,
      lastExit: source.lastExit.get(spec.id) ?? null,
      concurrency: spec.concurrency,
      workers,
    };
  });
  const { status, partitions } = source;
  return partitions === null ? { status, consumers } : { status, consumers, partitions };
}
