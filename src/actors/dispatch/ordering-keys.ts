import type { ConsumerDeps } from '../consumer-deps.js';
import type { DispatchJob } from './dispatch-job.js';
import { decode } from './run-attempt.js';

/**
 * Messages that wait behind failures without stopping the reads: up to this many (the messages
 * waiting for their in-place retry plus those queued behind them) do not count against a consumer's
 * capacity (workers + read-ahead). Past it they do, and the consumer stops reading until some leave
 * (backpressure), so a key that keeps failing cannot fill the process's memory.
 */
export const MAX_WAITING_BEHIND_FAILURES = 1000;

/** A message of an ordering key waiting for its in-place retry, and the timer that brings it back. */
interface Parked {
  readonly job: DispatchJob;
  readonly timer: unknown;
}

/**
 * The ordering keys of one worker pool. A key is **in flight** while one of its messages is held
 * by a worker (running, retrying, on its failure path) or waits for its in-place retry; the key's
 * later messages wait here, in stream order, and the worker that ends the message in flight takes
 * the next one of its key (`next`).
 *
 * A key is **failing** while its message in flight has failed at least once and is not settled: it
 * is retrying in process, or, past its in-process attempts with a retry scheduler configured, it is
 * **parked**: it stays pending (never acked, still owned: it stays in the pool's `held`, whose ids
 * the consumer keeps claiming), leaves its worker, and comes back after the durable retry's backoff
 * (`park`, then `onDue`). The key stays in flight all that time: no later message of it runs before
 * the failing one succeeds or is dead-lettered. `stats.keysWaiting` reports how many keys are failing.
 */
export class OrderingKeys {
  /** Messages waiting behind their key's message in flight, by key: a key is here while in flight. */
  readonly #queues = new Map<string, DispatchJob[]>();
  readonly #failing = new Set<string>();
  readonly #parked = new Map<string, Parked>();
  /** Parked messages plus the messages queued behind them. */
  #waiting = 0;
  readonly #deps: ConsumerDeps;
  readonly #onDue: (job: DispatchJob) => void;

  /** `onDue(job)`: a parked message's backoff is over; it goes back to the workers. */
  constructor(deps: ConsumerDeps, onDue: (job: DispatchJob) => void) {
    this.#deps = deps;
    this.#onDue = onDue;
  }

  /**
   * `job` arrives (an `orderingKey` is configured): its key is looked up (decoding it), and true
   * returned when it waits behind its key's message in flight (it is queued here); false when it
   * has no key, or its key is now in flight with it.
   */
  waits(job: DispatchJob): boolean {
    const orderingKey = this.#deps.spec.orderingKey;
    decode(this.#deps, job);
    if (job.message !== null && orderingKey !== undefined) {
      try {
        job.key = orderingKey(job.message);
      } catch (error) {
        this.#deps.logger.warn(
          { messageId: job.id, err: error },
          'orderingKey threw; the message runs unordered',
        );
      }
    }
    const key = job.key;
    if (key === undefined) return false;
    const queue = this.#queues.get(key);
    if (queue === undefined) {
      this.#queues.set(key, []);
      return false;
    }
    queue.push(job);
    if (this.#parked.has(key)) this.#waiting++;
    return true;
  }

  /** `job` (its key's message in flight) is done: the next message of its key, now in flight, if any. */
  next(job: DispatchJob): DispatchJob | undefined {
    const key = job.key;
    if (key === undefined) return undefined;
    this.#settled(key);
    const queue = this.#queues.get(key);
    const next = queue?.shift();
    if (next === undefined) this.#queues.delete(key);
    return next;
  }

  /** `job`'s attempt failed: its key waits behind a failure until it settles. */
  failed(job: DispatchJob): void {
    if (job.key === undefined || this.#failing.has(job.key)) return;
    this.#failing.add(job.key);
    this.#deps.stats.keysWaiting = this.#failing.size;
  }

  /** `job` (with a key) waits `delayMs` for its in-place retry, holding its key. */
  park(job: DispatchJob, key: string, delayMs: number): void {
    const timer = this.#deps.clock.setTimeout(() => this.#due(key), delayMs);
    this.#parked.set(key, { job, timer });
    this.#waiting += 1 + (this.#queues.get(key)?.length ?? 0);
  }

  /** Messages that wait behind failures (parked, or queued behind a parked one). */
  get waiting(): number {
    return this.#waiting;
  }

  #due(key: string): void {
    const parked = this.#parked.get(key);
    if (parked === undefined) return;
    this.#unpark(key, parked);
    this.#onDue(parked.job);
  }

  #unpark(key: string, parked: Parked): void {
    this.#parked.delete(key);
    this.#waiting -= 1 + (this.#queues.get(key)?.length ?? 0);
    this.#deps.clock.clearTimeout(parked.timer);
  }

  #settled(key: string): void {
    const parked = this.#parked.get(key);
    if (parked !== undefined) this.#unpark(key, parked);
    if (this.#failing.delete(key)) this.#deps.stats.keysWaiting = this.#failing.size;
  }

  /**
   * The pool closes: every queued and parked message is dropped (they stay pending: a parked
   * message is re-processed first when the consumer recovers its pending entries, in id order).
   * Returns the parked ones, whose spans were started.
   */
  close(): { queued: DispatchJob[]; parked: DispatchJob[] } {
    const queued = [...this.#queues.values()].flat();
    const parked = [...this.#parked.values()].map(({ job, timer }) => {
      this.#deps.clock.clearTimeout(timer);
      return job;
    });
    this.#queues.clear();
    this.#parked.clear();
    this.#failing.clear();
    this.#waiting = 0;
    this.#deps.stats.keysWaiting = 0;
    return { queued, parked };
  }
}
