import type { SessionDeps } from '../consumer/session-deps.js';
import { errorText } from '../machines/classify-error.js';
import { type SettledEvent, takeNextJob, type WorkerRef } from '../machines/dispatch-worker-machine.js';
import type { StreamEntry } from '../storage/stream-storage.js';
import { DispatchJob } from './dispatch-job.js';
import { JobQueue } from './job-queue.js';
import { decode, runAttempt } from './run-attempt.js';

/** What the pool tells its consumer session. */
export interface PoolHost {
  /** A message succeeded: ack it. */
  ack(id: string): void;
  /** A message left the pool (acked, dead-lettered, scheduled, released). */
  freed(): void;
  /** One message's handlers took `ms` (feeds the adaptive read size). */
  handled(ms: number): void;
}

/**
 * A consumer incarnation's dispatch workers and the messages waiting for them. Every message runs on
 * a worker actor in `running`: a free worker gets `run { job }`; while messages are queued, a worker
 * that finished one takes the next in place (a busy period, see the worker machine's spec), and it
 * returns to `idle` (`handler.settled`) only when nothing is left for it or a message did not succeed.
 * Ordering keys: a message whose key is in flight waits behind it and runs on the same worker.
 */
export class WorkerPool {
  readonly inFlight = new Map<string, DispatchJob>();
  /** Stop taking queued work (the consumer drains). */
  closing = false;
  readonly deps: SessionDeps;
  readonly #host: PoolHost;
  readonly #workers: () => WorkerRef[];
  #idle: WorkerRef[] | null = null;
  readonly #ready = new JobQueue();
  readonly #keyQueues = new Map<string, DispatchJob[]>();

  /** `workers`: the worker actors, looked up on first use (they are spawned before the session). */
  constructor(deps: SessionDeps, host: PoolHost, workers: () => WorkerRef[]) {
    this.deps = deps;
    this.#host = host;
    this.#workers = workers;
  }

  #idleWorkers(): WorkerRef[] {
    // Popped from the end: w0 first.
    this.#idle ??= this.#workers().reverse();
    return this.#idle;
  }

  /** Hand entries to workers; entries already in flight here are skipped. */
  dispatch(entries: readonly StreamEntry[]): void {
    const orderingKey = this.deps.spec.orderingKey;
    const idle = this.#idleWorkers();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (this.inFlight.has(entry.id)) continue;
      const job = new DispatchJob(entry, this);
      this.inFlight.set(job.id, job);
      if (orderingKey !== undefined && this.#waitsForKey(job, orderingKey)) continue;
      const worker = idle.pop();
      if (worker === undefined) this.#ready.push(job);
      else worker.send({ type: 'run', job });
    }
  }

  #waitsForKey(job: DispatchJob, orderingKey: NonNullable<SessionDeps['spec']['orderingKey']>): boolean {
    decode(this.deps, job);
    if (job.message !== null) {
      try {
        job.key = orderingKey(job.message);
      } catch (error) {
        this.deps.logger.warn(
          { messageId: job.id, err: error },
          'orderingKey threw; the message runs unordered',
        );
      }
    }
    if (job.key === undefined) return false;
    const queue = this.#keyQueues.get(job.key);
    if (queue !== undefined) {
      queue.push(job);
      return true;
    }
    this.#keyQueues.set(job.key, []);
    return false;
  }

  /**
   * The worker entered `running` (entry `startAttempt`): run attempt `attempt` of `job`, then, while
   * it succeeds and work is queued, the next messages on the same worker.
   */
  run(worker: WorkerRef, job: DispatchJob, attempt: number): void {
    job.worker = worker;
    const started = performance.now();
    runAttempt(this.deps, job, attempt).then(
      (event) => this.#settled(worker, job, event, started),
      (error: unknown) =>
        this.#settled(
          worker,
          job,
          { type: 'handler.settled', outcome: 'failed', error: errorText(error) },
          started,
        ),
    );
  }

  #settled(worker: WorkerRef, job: DispatchJob, event: SettledEvent, started: number): void {
    if (this.inFlight.get(job.id) !== job) return;
    this.#host.handled(performance.now() - started);
    if (event.outcome === 'ok') {
      const next = this.#next(job);
      if (next !== undefined) {
        // The busy period goes on: no transition.
        this.#leave(job);
        this.#host.ack(job.id);
        this.deps.stats.processed++;
        takeNextJob(worker.getSnapshot().context, next);
        this.run(worker, next, 1);
        this.#host.freed();
        return;
      }
    }
    worker.send(event);
  }

  /** The message succeeded and its worker goes idle: ack it. */
  complete(job: DispatchJob): void {
    this.deps.stats.processed++;
    this.#host.ack(job.id);
    this.finish(job);
  }

  /**
   * The message is done here (acked, dead-lettered, scheduled or released) and its worker is idle:
   * give the worker its next message, if any.
   */
  finish(job: DispatchJob): void {
    if (this.inFlight.get(job.id) !== job) return;
    const worker = job.worker;
    const next = this.#next(job);
    this.#leave(job);
    if (worker !== null) {
      // Sent from within the worker's transition: it is processed once the worker is idle.
      if (next !== undefined) worker.send({ type: 'run', job: next });
      else this.#idleWorkers().push(worker);
    }
    this.#host.freed();
  }

  #leave(job: DispatchJob): void {
    this.inFlight.delete(job.id);
    job.worker = null;
  }

  /** What the worker that ran `job` takes next: the next message of its key, else the next ready one. */
  #next(job: DispatchJob): DispatchJob | undefined {
    if (this.closing) return undefined;
    if (job.key !== undefined) {
      const queue = this.#keyQueues.get(job.key);
      if (queue !== undefined) {
        const next = queue.shift();
        if (next !== undefined) return next;
        this.#keyQueues.delete(job.key);
      }
    }
    return this.#ready.shift();
  }

  /** Stop taking queued work; messages that never started are forgotten (they stay pending). */
  close(): void {
    this.closing = true;
    for (const queue of this.#keyQueues.values())
      for (const job of queue.splice(0)) this.inFlight.delete(job.id);
    for (let job = this.#ready.shift(); job !== undefined; job = this.#ready.shift())
      this.inFlight.delete(job.id);
  }

  /** Abort every running message (it stays pending); `toWorkers` also sends each worker `abort`. */
  abortAll(reason: Error, toWorkers: boolean): void {
    for (const job of this.inFlight.values()) {
      job.released = true;
      job.controller?.abort(reason);
      if (toWorkers) job.worker?.send({ type: 'abort' });
    }
  }
}
