/**
 * The consumer machine's types: its input, context, events and output (see consumer-machine.ts for
 * the machine and its spec).
 */
import type { ExponentialBackoff, Random } from './backoff.js';
import type { WorkerInput } from './dispatch-worker-machine.js';

type ExitReason = 'nogroup' | 'fatal';

export interface ConsumerInput {
  /** Stable id of this consumer in its runtime (survives restarts). */
  id: string;
  /** Id of this incarnation (changes on every restart); keys the I/O session. */
  session: string;
  stream: string;
  group: string;
  consumer: string;
  concurrency: number;
  /** Where a new group starts when this consumer has seen no id yet: `$`, `0` or an id. */
  startId: string;
  /** Last id seen by the previous incarnation, if any. */
  lastId: string | null;
  claimIntervalMs: number;
  backoff: ExponentialBackoff;
  /** Jitter of the connection backoff, in [0, 1). @default none (the full step) */
  random?: Random;
  worker: Omit<WorkerInput, 'session' | 'workerId'>;
}

export interface ConsumerContext extends ConsumerInput {
  backoffAttempt: number;
  lastRecoveryAt: number | null;
  exitReason: ExitReason | null;
  error: string | null;
  healthy: boolean;
  stopTimeoutMs: number | null;
  /** The dispatch workers alive (`w0 …`): `concurrency` of them, plus retiring ones still busy. */
  workers: string[];
}

export interface ConsumerOutput {
  reason: ExitReason | 'stopped';
  error: string | null;
  lastId: string | null;
}

/**
 * What `io.read.done` carries: how many entries the read handed over, and the newest id the
 * incarnation has read so far.
 */
export interface ReadOutput {
  count: number;
  lastId: string | null;
  now: number;
  /**
   * The read loop goes on: enough capacity is free after the hand-over and no recovery is due. Else
   * the loop stopped (see `dispatching`).
   */
  ready: boolean;
}

export type ConsumerEvent =
  | { type: 'stop'; timeoutMs: number }
  | { type: 'io.capacity'; now: number }
  | { type: 'io.read.done'; output: ReadOutput }
  | { type: 'io.read.failed'; error: unknown; lastId: string | null }
  | { type: 'io.failed'; reason: ExitReason; error: string }
  /** Run `concurrency` dispatch workers from now on (`runtime.setConcurrency`; see consumer-workers.ts). */
  | { type: 'concurrency.set'; concurrency: number }
  /** The pool let these workers go (idle, above the concurrency): stop them. */
  | { type: 'io.workers.retired'; ids: string[] };

export interface IoInput {
  session: string;
  id: string;
}

/** The `io` actor's input: its incarnation, and how many workers the machine spawned at its start. */
export interface IoStartInput extends IoInput {
  concurrency: number;
}
