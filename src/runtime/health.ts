import type { AnyActorRef } from 'xstate';
import type { ConsumerSnapshot, RuntimeSnapshot } from './runtime-snapshot.js';

/** One consumer's part of `runtime.health()`. */
export interface ConsumerHealth {
  /** The consumer's id (as in `snapshot()`). */
  id: string;
  /** Its consumer machine's state, `restarting` while the supervisor waits to restart it. */
  state: string;
  /** Reading (`polling`, `dispatching`, or `recovering` its pending entries). */
  ready: boolean;
  /** Why it is not ready, in words (with the last error where there is one). Absent when ready. */
  reason?: string;
}

/** What `runtime.health()` returns: what a Kubernetes liveness and readiness probe ask. */
export interface RuntimeHealth {
  /** False only once the runtime has failed (the supervisor escalated) or stopped. */
  live: boolean;
  /** True when the runtime is live, not stopping, and every consumer is ready. */
  ready: boolean;
  /** The runtime's status, as in `snapshot().status` (`idle` before `start()`). */
  status: RuntimeSnapshot['status'] | 'idle';
  consumers: ConsumerHealth[];
}

/** What `buildHealth` reads besides the snapshot. */
export interface HealthSource {
  snapshot: RuntimeSnapshot;
  /** Whether `start()` was called. */
  started: boolean;
  /** The supervisor's children (consumer machines by id), for each one's last connection error. */
  children: Record<string, AnyActorRef | undefined>;
}

/** States in which a consumer reads and hands out messages. */
const READY_STATES = new Set(['polling', 'dispatching', 'recovering']);

/**
 * Health from a snapshot: liveness from the runtime's status, readiness from each consumer's state.
 *
 * @example
 * buildHealth({ snapshot: runtime.snapshot(), started: true, children: {} })
 * // → { live: true, ready: true, status: 'running', consumers: [{ id: 'orders/billing/pod-1', state: 'polling', ready: true }] }
 */
export function buildHealth(source: HealthSource): RuntimeHealth {
  const { snapshot, started } = source;
  const status = started ? snapshot.status : 'idle';
  const live = status !== 'failed' && status !== 'stopped';
  const consumers = snapshot.consumers.map((consumer): ConsumerHealth => {
    if (!started) return { id: consumer.id, state: 'idle', ready: false, reason: 'start() was not called' };
    const reading = READY_STATES.has(consumer.state);
    // Once the runtime failed or stopped, a consumer's last state may still read `polling`.
    if (reading && live) return { id: consumer.id, state: consumer.state, ready: true };
    const reason = reading
      ? `the runtime ${status}`
      : notReadyReason(consumer, lastError(source.children[consumer.id]));
    return { id: consumer.id, state: consumer.state, ready: false, reason };
  });
  const ready = live && status !== 'stopping' && consumers.every((consumer) => consumer.ready);
  return { live, ready, status, consumers };
}

/** The consumer machine's `context.error`: the connection error it backs off from, until it reads again. */
function lastError(ref: AnyActorRef | undefined): string | null {
  const context = (ref?.getSnapshot() as { context?: { error?: unknown } } | undefined)?.context;
  return typeof context?.error === 'string' ? context.error : null;
}

function notReadyReason(consumer: ConsumerSnapshot, lastError: string | null): string {
  const exit = consumer.lastExit;
  const exitText = exit === null ? '' : `${exit.reason}${exit.error === null ? '' : `: ${exit.error}`}`;
  switch (consumer.state) {
    case 'backoff':
      return `backing off after a connection error${lastError === null ? '' : `: ${lastError}`}`;
    case 'creatingGroup':
      return `creating its consumer group${lastError === null ? '' : ` (last error: ${lastError})`}`;
    case 'restarting':
      return `waiting for the supervisor to restart it${exitText === '' ? '' : ` after ${exitText}`}`;
    case 'draining':
      return 'draining: it stopped reading';
    case 'exited':
      return `exited${exitText === '' ? '' : ` (${exitText})`}`;
    default:
      return `in state ${consumer.state}`;
  }
}
