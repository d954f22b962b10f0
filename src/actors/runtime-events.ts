import type { DeadReason } from '../machines/dispatch-worker-machine.js';

/**
 * Lifecycle events a runtime reports to `runtime.subscribe(listener)`. Per-message events exist only
 * for the failure path (`message.retrying`, `message.dead-lettered`, `message.dead-letter-failed`,
 * `message.scheduled`): the
 * success path emits nothing, so subscribing costs nothing per processed message.
 *
 * `consumer.state` reports lifecycle states (creatingGroup, recovering, backoff, draining, stopped,
 * exited); the busy loop between polling and dispatching is not reported one by one (read it from
 * `runtime.snapshot()`).
 */
export type RuntimeEvent =
  | { type: 'runtime.started'; at: number }
  | { type: 'runtime.stopping'; at: number }
  | { type: 'runtime.stopped'; at: number }
  | { type: 'runtime.failed'; at: number; consumerId: string | null; error: string }
  | { type: 'consumer.state'; at: number; consumerId: string; state: string; previous: string | null }
  | { type: 'consumer.group-created'; at: number; consumerId: string; startId: string }
  | {
      /**
       * The group was gone and the stream held nothing at or past the last id this consumer saw
       * (emptied, or rewritten with lower ids after an empty restart): it was created at `0`
       * instead of `lastSeenId`, so no new entry is skipped (see docs/operations.md).
       */
      type: 'consumer.group-rewound';
      at: number;
      consumerId: string;
      lastSeenId: string;
      /** True when the stream was empty; false when all its entries were below `lastSeenId`. */
      streamEmpty: boolean;
      startId: '0';
    }
  | { type: 'consumer.backoff'; at: number; consumerId: string; attempt: number; error: string | null }
  | { type: 'consumer.exited'; at: number; consumerId: string; reason: string; error: string | null }
  | { type: 'consumer.restarting'; at: number; consumerId: string; reason: string; attempt: number }
  | { type: 'consumer.restarted'; at: number; consumerId: string; reason: string; restarts: number }
  | {
      type: 'message.retrying';
      at: number;
      consumerId: string;
      messageId: string;
      /** The message's `type` field; null when it could not be decoded. */
      messageType: string | null;
      /** The attempt that failed (from 1); attempt + 1 runs after `delayMs`. */
      attempt: number;
      /** Backoff before the next attempt, ms. */
      delayMs: number;
      error: string;
    }
  | {
      type: 'message.dead-lettered';
      at: number;
      consumerId: string;
      messageId: string;
      /** The message's `type` field; null when it could not be decoded. */
      messageType: string | null;
      reason: DeadReason;
      error: string;
      deadLetterId: string;
    }
  | {
      /**
       * The dead-letter write (XADD + XACK) failed: the message stays pending and, when it comes
       * back, is dead-lettered with this `reason` and `error` (see docs/operations.md).
       */
      type: 'message.dead-letter-failed';
      at: number;
      consumerId: string;
      messageId: string;
      reason: DeadReason;
      error: string;
      /** Why the write failed. */
      failure: string;
    }
  | {
      type: 'message.scheduled';
      at: number;
      consumerId: string;
      messageId: string;
      /** The message's `type` field; null when it could not be decoded. */
      messageType: string | null;
      /** In-process attempts made (the last one failed). */
      attempt: number;
      /** The `x-retry-attempt` the re-delivered message carries (1 for its first durable retry). */
      retryAttempt: number;
      /** When it comes back, ms from now. */
      delayMs: number;
      error: string;
      /**
       * True for a message of an ordering key: it was not handed to the scheduler but stays pending
       * and runs again in place after `delayMs`, its key waiting for it (docs/scaling.md).
       */
      inPlace: boolean;
    }
  | {
      /**
       * A leased partition (`assignment: 'leased'`) changed hands in this runtime: `acquired`,
       * `released` (handed over to balance the runtimes, or on stop) or `lost` (its renewal failed or
       * came too late: the partition was fenced at once).
       */
      type: 'partition.lease';
      at: number;
      consumerId: string;
      /** The partition's stream, e.g. `orders:{3}`. */
      stream: string;
      partition: number;
      change: 'acquired' | 'released' | 'lost';
      /** This runtime's owner token (`<consumer name>/<random>`). */
      owner: string;
    };

export type RuntimeListener = (event: RuntimeEvent) => void;

/** Synchronous fan-out to listeners; a listener that throws never breaks the runtime. */
export class EventBus {
  #listeners = new Set<RuntimeListener>();
  #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  get active(): boolean {
    return this.#listeners.size > 0;
  }

  subscribe(listener: RuntimeListener): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`Expected \`listener\` to be a function, got ${typeof listener}`);
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: RuntimeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
