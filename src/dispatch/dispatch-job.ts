import type { AnyActorRef } from 'xstate';
import type { SettledEvent, WorkerJob } from '../machines/dispatch-worker-machine.js';
import type { Route } from '../routing/handler.js';
import type { Message } from '../routing/message.js';
import type { StreamEntry } from '../storage/stream-storage.js';

/** One message in flight in a consumer, from dispatch to ack / dead letter / release. */
export interface DispatchJob extends WorkerJob {
  readonly id: string;
  readonly entry: StreamEntry;
  /** Decoded on first use (early when an ordering key is configured). */
  message: Message | null;
  /** Set when decoding failed: the job goes straight to the dead-letter path. */
  decodeError: { reason: 'missing-type' | 'malformed-payload'; error: string } | null;
  routes: readonly Route<unknown>[] | null;
  /** Names of routes that already succeeded for this message (only when there are several). */
  succeeded: Set<string> | null;
  /** Ordering key, if one is configured and the message has one. */
  key: string | undefined;
  controller: AbortController | null;
  /** Backoff before the next in-process attempt, ms (set when the worker enters `retrying`). */
  retryDelayMs: number;
  /** Set when a stop aborted the job: whatever its handlers do, it is left pending. */
  released: boolean;
  worker: AnyActorRef | null;
  /**
   * Outcome of the first attempt, when it ran inline (the fast path) and did not succeed: the
   * worker machine replays it on entering `running` instead of running the handlers again.
   */
  firstOutcome: SettledEvent | null;
}

export function createJob(entry: StreamEntry): DispatchJob {
  return {
    id: entry.id,
    entry,
    message: null,
    decodeError: null,
    routes: null,
    succeeded: null,
    key: undefined,
    controller: null,
    retryDelayMs: 0,
    released: false,
    worker: null,
    firstOutcome: null,
  };
}
