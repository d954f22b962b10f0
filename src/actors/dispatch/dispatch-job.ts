import type { Route } from '../../routing/handler.js';
import type { StreamEntry, StreamFields } from '../../storage/stream-storage.js';
import type { MessageTrace } from '../../telemetry/message-tracer.js';
import type { DecodeFailure, Message } from '../../wire/message.js';
import type { OutputMessage } from '../../wire/publish.js';
import type { ConsumerDeps } from '../consumer-deps.js';
import type { Batch } from './batch.js';
import type { WorkerPool } from './worker-pool.js';
import type { WorkerSlot } from './worker-slot.js';

/**
 * One message in flight in a consumer, from dispatch to ack / dead letter / release. While it runs it
 * sits in its worker's slot (`WorkerSlot`, the `job` in the worker's context); `jobOf` finds it from
 * there, and its pool from it.
 */
export class DispatchJob {
  readonly id: string;
  #entry: StreamEntry | null;
  /** The consumer incarnation's worker pool that holds it. */
  readonly pool: WorkerPool;
  /** Decoded on first use (early when an ordering key is configured). */
  message: Message | null = null;
  /** Set when decoding failed: the job goes straight to the dead-letter path. */
  decodeError: { reason: DecodeFailure; error: string } | null = null;
  routes: readonly Route<unknown>[] | null = null;
  /** Names of routes that already succeeded for this message (only when there are several). */
  succeeded: Set<string> | null = null;
  /** Ordering key, if one is configured and the message has one. */
  key: string | undefined = undefined;
  controller: AbortController | null = null;
  /** Set when a stop aborted the job: whatever its handlers do, it is left pending. */
  released = false;
  /** The slot of the worker running it (the slot's job is this one), while it runs. */
  slot: WorkerSlot | null = null;
  /** The attempt running now (1 for the first). */
  attempt = 0;
  /** When its current attempt started (`performance.now()`), for the adaptive read size. */
  startedAt = 0;
  /**
   * What its handlers that succeeded published with `ctx.publish`: written with its ack
   * (`ackAndAdd`), dropped on any other end. Null when they published nothing (the batched XACK).
   */
  outputs: OutputMessage[] | null = null;
  /** The message's span, from its first attempt to its settlement, when tracing is on (src/telemetry). */
  trace: MessageTrace | null = null;
  /** Set on the first message of a batch (`router.batch`): the batch it stands for in the pool. */
  batch: Batch | null = null;

  constructor(entry: StreamEntry, pool: WorkerPool) {
    this.id = entry.id;
    this.#entry = entry;
    this.pool = pool;
  }

  /** The entry as read. Only while the job is in its pool (see `forget`). */
  get entry(): StreamEntry {
    if (this.#entry === null) throw new Error(`Message ${this.id} already left its consumer`);
    return this.#entry;
  }

  /**
   * Retried in place (an ordering key's message, instead of a durable retry): from now on the entry
   * carries `fields` (the next `x-retry-attempt`), as the re-delivered copy would. Its message is
   * decoded again by the caller; its routes, and those that already succeeded, are kept.
   */
  redeliver(fields: StreamFields): void {
    this.#entry = { ...this.entry, fields };
    this.message = null;
  }

  /**
   * The message left the pool (acked, dead-lettered, scheduled or released): drop its data. The job
   * itself stays reachable for a while from XState's transition objects (the action arguments that
   * hold a worker's context and event), which V8 may allocate straight into the old generation; every
   * scavenge until the next full GC then copies whatever they reach. Without its entry and message,
   * a finished job is a few fields instead of the whole message (docs/performance.md, "What the
   * pickup tail is made of").
   */
  forget(): void {
    this.#entry = null;
    this.message = null;
    this.routes = null;
    this.outputs = null;
    this.batch = null;
  }

  /** The consumer's dependencies (spec, storage, stats, …). */
  get deps(): ConsumerDeps {
    return this.pool.deps;
  }
}
