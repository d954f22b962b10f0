import type { AnyActorRef } from 'xstate';
import type { ConsumerStats } from '../consumer/consumer-stats.js';
import type { SupervisorContext } from '../machines/supervisor-machine.js';
import type { ResolvedConsumer } from './runtime-options.js';

export type RuntimeStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface WorkerSnapshot {
  id: string;
  state: string;
  /** Id of the message it works on, if any. */
  messageId: string | null;
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
  processed: number;
  /** Failed handler attempts. */
  failed: number;
  retried: number;
  deadLettered: number;
  deadLetteredByReason: Record<string, number>;
  scheduled: number;
  unrouted: number;
  lastExit: { reason: string; error: string | null } | null;
  workers: WorkerSnapshot[];
}

export interface RuntimeSnapshot {
  status: Exclude<RuntimeStatus, 'idle'>;
  consumers: ConsumerSnapshot[];
}

interface SnapshotSource {
  status: Exclude<RuntimeStatus, 'idle'>;
  consumers: readonly ResolvedConsumer[];
  stats: Map<string, ConsumerStats>;
  children: Record<string, AnyActorRef | undefined>;
  context: SupervisorContext | null;
  lastExit: Map<string, { reason: string; error: string | null }>;
  /** I/O sessions by incarnation id: which worker slots run a message on the fast path. */
  sessions: ReadonlyMap<string, { readonly busyWorkers: ReadonlyMap<string, string> }>;
}

export function buildSnapshot(source: SnapshotSource): RuntimeSnapshot {
  return {
    status: source.status,
    consumers: source.consumers.map((spec) => {
      const stats = source.stats.get(spec.id)!;
      const ref = source.children[spec.id];
      const child = ref?.getSnapshot() as
        | {
            value: unknown;
            status: string;
            context: { session: string };
            children: Record<string, AnyActorRef | undefined>;
          }
        | undefined;
      let state: string;
      if (child && child.status === 'active') state = String(child.value);
      else if (child) state = String(child.value);
      else if (source.status === 'running' || source.status === 'starting') state = 'restarting';
      else state = source.status === 'failed' ? 'exited' : 'stopped';
      const workers: WorkerSnapshot[] = [];
      let inFlight = 0;
      if (child) {
        const fastPath = source.sessions.get(child.context.session)?.busyWorkers;
        for (let i = 0; i < spec.concurrency; i++) {
          const id = `w${i}`;
          const worker = child.children[id]?.getSnapshot() as
            | { value: unknown; context: { job: { id: string } | null; attempt: number } }
            | undefined;
          if (!worker) continue;
          // A slot running a first attempt inline is `running` though its machine is still idle.
          const inline = worker.value === 'idle' ? fastPath?.get(id) : undefined;
          const busy = worker.value !== 'idle' || inline !== undefined;
          if (busy) inFlight++;
          workers.push({
            id,
            state: inline !== undefined ? 'running' : String(worker.value),
            messageId: inline ?? worker.context.job?.id ?? null,
            attempt: inline !== undefined ? 1 : busy ? worker.context.attempt : 0,
          });
        }
      }
      return {
        id: spec.id,
        stream: spec.stream,
        group: spec.group,
        consumer: spec.consumer,
        state,
        restarts: source.context?.restarts[spec.id] ?? 0,
        inFlight,
        processed: stats.processed,
        failed: stats.failed,
        retried: stats.retried,
        deadLettered: stats.deadLettered,
        deadLetteredByReason: { ...stats.deadLetteredByReason },
        scheduled: stats.scheduled,
        unrouted: stats.unrouted,
        lastExit: source.lastExit.get(spec.id) ?? null,
        workers,
      };
    }),
  };
}
