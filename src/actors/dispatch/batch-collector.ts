import type { BatchSettings } from '../../routing/batch.js';
import type { ConsumerDeps } from '../consumer-deps.js';
import { Batch, type BatchHost } from './batch.js';
import type { DispatchJob } from './dispatch-job.js';
import type { JobQueue } from './job-queue.js';
import { decode } from './run-attempt.js';

/** A batch still filling: its messages so far, and the timer that runs it unfilled after `waitMs`. */
interface Filling {
  members: DispatchJob[];
  settings: BatchSettings<unknown>;
  timer: unknown;
}

/**
 * Collects the messages of batch types (`router.batch`) into batches, per type, before they reach a
 * worker. A batch is sealed when it has `size` messages, or `waitMs` after its first message (on the
 * runtime's clock), or at once after the read that brought it when `waitMs` is 0; then its head
 * joins the pool's ready queue like any message. Messages the handler must not see never join:
 * malformed or typeless ones, those delivered too often or remembered for a dead letter go the
 * single-message path (dead-lettered alone).
 *
 * With an `orderingKey`, a type runs one batch at a time (the next waits here until the one in
 * flight ended, retries included), so a batch type is handled in stream order; without one, its
 * batches run on as many workers as are free.
 */
export class BatchCollector {
  readonly #deps: ConsumerDeps;
  readonly #host: BatchHost;
  readonly #ready: JobQueue;
  readonly #wake: () => void;
  readonly #filling = new Map<string, Filling>();
  /** Batches sealed and not ended, per type. With an ordering key, the first of each is the one running. */
  readonly #sealed = new Map<string, Batch[]>();
  #closed = false;

  /** `ready`, `wake`: the pool's ready queue, where a sealed batch's head goes, and how it wakes a worker. */
  constructor(deps: ConsumerDeps, host: BatchHost, ready: JobQueue, wake: () => void) {
    this.#deps = deps;
    this.#host = host;
    this.#ready = ready;
    this.#wake = wake;
  }

  #enqueue(head: DispatchJob): void {
    this.#ready.push(head);
    this.#wake();
  }

  /**
   * Room a consumer needs beyond its workers and read-ahead so batches can fill: one full batch per
   * worker (the largest `size`), 0 without batch routes.
   */
  get room(): number {
    return this.#deps.router.maxBatchSize * this.#deps.spec.concurrency;
  }

  /** Take `job` into a batch when its type has a batch route; false: it runs alone. */
  take(job: DispatchJob): boolean {
    const { router, spec, deadLetterMemory } = this.#deps;
    if (this.#closed || router.maxBatchSize === 0) return false;
    if (job.entry.deliveries > spec.deadLetter.maxDeliveries || deadLetterMemory.get(job.id) !== undefined) {
      return false;
    }
    if (job.message === null && job.decodeError === null) decode(this.#deps, job);
    const type = job.message?.type;
    const settings = type === undefined ? undefined : router.batchRoute(type)?.batch;
    if (type === undefined || settings === undefined) return false;
    let filling = this.#filling.get(type);
    if (filling === undefined) {
      const fresh: Filling = { members: [], settings, timer: null };
      const seal = () => this.#seal(type, fresh);
      if (settings.waitMs === 0) queueMicrotask(seal);
      else fresh.timer = this.#deps.clock.setTimeout(seal, settings.waitMs);
      this.#filling.set(type, fresh);
      filling = fresh;
    }
    filling.members.push(job);
    if (filling.members.length >= settings.size) this.#seal(type, filling);
    return true;
  }

  #seal(type: string, filling: Filling): void {
    if (this.#filling.get(type) !== filling || this.#closed) return;
    this.#filling.delete(type);
    if (filling.timer !== null) this.#deps.clock.clearTimeout(filling.timer);
    const batch = new Batch(filling.members, type, filling.settings, {
      deps: this.#deps,
      host: this.#host,
      ended: (ended) => this.#ended(ended),
    });
    const sealed = this.#sealed.get(type);
    if (sealed === undefined) this.#sealed.set(type, [batch]);
    else sealed.push(batch);
    // With an ordering key, a batch waits for the one of its type in flight.
    if (sealed === undefined || this.#deps.spec.orderingKey === undefined) this.#enqueue(batch.head);
  }

  #ended(batch: Batch): void {
    const sealed = this.#sealed.get(batch.type);
    const at = sealed?.indexOf(batch) ?? -1;
    if (sealed === undefined || at < 0) return;
    sealed.splice(at, 1);
    if (sealed.length === 0) this.#sealed.delete(batch.type);
    else if (this.#deps.spec.orderingKey !== undefined && at === 0 && !this.#closed) {
      const next = sealed[0];
      if (next !== undefined) this.#enqueue(next.head);
    }
  }

  /**
   * The consumer stops: messages still filling a batch, and batches waiting for their type's turn
   * (ordering key), leave the pool unacked and stay pending, like messages waiting for a worker (the
   * pool releases the batches in its ready queue); timers stop.
   */
  close(): void {
    this.#closed = true;
    for (const filling of this.#filling.values()) {
      if (filling.timer !== null) this.#deps.clock.clearTimeout(filling.timer);
      for (const job of filling.members) this.#forget(job);
    }
    this.#filling.clear();
    if (this.#deps.spec.orderingKey === undefined) return;
    for (const sealed of [...this.#sealed.values()]) {
      for (const batch of sealed.slice(1)) {
        batch.release();
        this.#forget(batch.head);
      }
    }
  }

  #forget(job: DispatchJob): void {
    const { held } = job.pool;
    if (held.get(job.id) === job) held.delete(job.id);
    job.forget();
  }
}
