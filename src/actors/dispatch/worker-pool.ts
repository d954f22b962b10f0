import type { SettledEvent, WorkerRef } from '../../machines/dispatch-worker-machine.js';
import type { StreamEntry } from '../../storage/stream-storage.js';
import { RETRY_ATTEMPT_FIELD, scheduledAttempts } from '../../wire/headers.js';
import type { ConsumerDeps } from '../consumer-deps.js';
import { runBatchAttempt } from './batch-attempt.js';
import { BatchCollector } from './batch-collector.js';
import { DispatchJob } from './dispatch-job.js';
import { JobQueue } from './job-queue.js';
import { OrderingKeys } from './ordering-keys.js';
import type { PoolHost } from './pool-host.js';
import { type AttemptListener, decode, runAttempt } from './run-attempt.js';
import { TurnBudget } from './turn-budget.js';
import { WorkerRoster } from './worker-roster.js';
import type { WorkerSlot } from './worker-slot.js';

/**
 * A consumer incarnation's dispatch workers and the messages waiting for them. Every message runs on
 * a worker actor in `running`: a free worker's slot (`WorkerSlot`, owned here) is pointed at the
 * message and the worker gets `run { job: slot }`; while messages are queued, a worker that finished
 * one at its first attempt takes the next in place (the pool moves the slot: a busy period, see the
 * worker machine's spec), and it returns to `idle` (`handler.settled`) only when nothing is left for
 * it, or a message did not succeed at once.
 * Ordering keys: a message whose key is in flight waits behind it and runs on the same worker; a
 * failing one keeps its key until it succeeds or is dead-lettered, also across its durable retries,
 * which it waits for in place (`park`, see ordering-keys.ts).
 */
export class WorkerPool implements AttemptListener {
  /**
   * Every message this incarnation holds, by id: running, retrying, on its failure path, or waiting
   * for a worker or its ordering key. (The snapshot's `inFlight` counts busy workers instead.)
   */
  readonly held = new Map<string, DispatchJob>();
  /** Stop taking queued work (the consumer drains). */
  closing = false;
  readonly deps: ConsumerDeps;
  readonly #host: PoolHost;
  readonly #workers: () => WorkerRef[];
  #roster: WorkerRoster | null = null;
  /** Messages run in this turn of the event loop (see turn-budget.ts). */
  readonly #turn = new TurnBudget();
  readonly #ready = new JobQueue();
  readonly keys: OrderingKeys;
  /** Messages of batch types (`router.batch`), collected into batches before they join `#ready`. */
  readonly batches: BatchCollector;

  /** `workers`: the worker actors, looked up on first use (they are spawned before the session). */
  constructor(deps: ConsumerDeps, host: PoolHost, workers: () => WorkerRef[]) {
    this.deps = deps;
    this.#host = host;
    this.#workers = workers;
    this.keys = new OrderingKeys(deps, (job) => this.#due(job));
    this.batches = new BatchCollector(deps, host, this.#ready, () => this.#wake());
  }

  #slots(): WorkerRoster {
    this.#roster ??= new WorkerRoster(this.#workers(), (ids) => this.#host.retired(ids));
    return this.#roster;
  }

  /** Run on `count` workers (`workerAt(i)`: a new one) from now on; see worker-roster.ts. */
  resize(count: number, workerAt: (index: number) => WorkerRef): void {
    this.#slots().resize(count, workerAt);
    this.#wake();
  }

  /** Hand entries to workers; entries already in flight here are skipped. */
  dispatch(entries: readonly StreamEntry[]): void {
    const keyed = this.deps.spec.orderingKey !== undefined;
    for (const entry of entries) {
      if (this.held.has(entry.id)) continue;
      const job = new DispatchJob(entry, this);
      this.held.set(job.id, job);
      if (this.batches.take(job)) continue;
      if (keyed && this.keys.waits(job)) continue;
      this.#ready.push(job);
    }
    this.#wake();
  }

  /**
   * Start one idle worker on the next ready message. Workers are woken one at a time: a woken worker
   * wakes the next only when its handler is pending (or its busy period ended) with work still
   * queued. Synchronous handlers are so run by one worker in one busy period (two transitions per
   * batch instead of two per worker), asynchronous ones still fan out to every free worker at once.
   */
  #wake(): void {
    // Over the turn's budget, a deferred busy period wakes the next worker in the next turn.
    if (this.closing || this.#ready.length === 0 || this.#turn.exhausted) return;
    const slot = this.#slots().take();
    if (slot === undefined) return;
    // Not empty: checked above.
    slot.job = this.#ready.shift() ?? null;
    slot.worker.send({ type: 'run', job: slot });
  }

  /**
   * The worker is entering `running` (entry `startAttempt`) on the message in its slot: run attempt
   * `attempt` of it once the transition is done (a microtask later, so the actor is in `running`
   * before its handler starts), then, while messages succeed and work is queued, the next ones on the
   * same worker.
   */
  start(slot: WorkerSlot, job: DispatchJob, attempt: number): void {
    job.slot = slot;
    queueMicrotask(() => this.#resume(slot, job, attempt, false));
  }

  /**
   * Run `job` on `worker` (in `running`, its context's job) unless it left the pool meanwhile; a stop
   * releases it first. `queued`: a busy period's next message deferred by the budget (not started
   * yet): once the pool is closing it is released, like the queued messages, and stays pending.
   */
  #resume(slot: WorkerSlot, job: DispatchJob, attempt: number, queued: boolean): void {
    if (this.held.get(job.id) === job) {
      if (job.released || (queued && this.closing))
        slot.worker.send({ type: 'handler.settled', outcome: 'released' });
      else this.#run(slot, job, attempt);
    }
    this.#wake();
  }

  /** A busy period: run `job`, and as long as attempts settle at once with work queued, the next ones. */
  #run(slot: WorkerSlot, job: DispatchJob, attempt: number): void {
    for (;;) {
      job.slot = slot;
      job.attempt = attempt;
      job.startedAt = performance.now();
      const event = this.#attempt(job, attempt);
      if (event === null) return;
      const next = this.#after(slot, job, event);
      if (next === undefined) return;
      if (!this.#turn.spend()) {
        this.#defer(slot, next);
        return;
      }
      job = next;
      attempt = 1;
    }
  }

  /** Go on with the busy period in the next turn (the worker stays `running` on `next`). */
  #defer(slot: WorkerSlot, next: DispatchJob): void {
    setImmediate(() => this.#resume(slot, next, 1, true));
  }

  /**
   * Run an attempt; when tracing, inside the message's span (started on its first attempt). With no
   * tracer (telemetry off, or no OpenTelemetry SDK registered) this is one branch: no span, no
   * context, no closure.
   */
  #attempt(job: DispatchJob, attempt: number): SettledEvent | null {
    if (job.batch !== null) return runBatchAttempt(job.batch, attempt, this);
    const tracer = this.deps.tracer;
    if (tracer === null) return runAttempt(this.deps, job, attempt, this);
    job.trace ??= tracer.start(job.entry);
    return job.trace.run(runAttempt, this.deps, job, attempt, this);
  }

  /** An attempt settled later (its handler returned a promise). */
  attemptSettled(job: DispatchJob, event: SettledEvent): void {
    const slot = job.slot;
    if (slot === null) return;
    const next = this.#after(slot, job, event);
    if (next !== undefined) {
      if (this.#turn.spend()) this.#run(slot, next, 1);
      else this.#defer(slot, next);
    }
    this.#wake();
  }

  /**
   * After an attempt: on success at the first attempt with work queued, ack the message and move the
   * worker's slot to the next one in place (the busy period goes on, no transition) and return it;
   * otherwise report the outcome to the worker machine (→ idle, or the failure path). A message that
   * needed a retry reports its success, so the machine's `attempt` is always the slot's message's.
   */
  #after(slot: WorkerSlot, job: DispatchJob, event: SettledEvent): DispatchJob | undefined {
    if (this.held.get(job.id) !== job) return undefined;
    this.#host.handled((performance.now() - job.startedAt) / Math.max(1, job.batch?.ran ?? 1));
    if (event.outcome === 'failed') this.keys.failed(job);
    if (event.outcome === 'ok' && job.attempt === 1 && job.batch === null && !slot.retiring) {
      const next = this.#next(job);
      if (next !== undefined) {
        const outputs = job.outputs;
        this.#leave(job);
        this.deps.stats.processed++;
        if (outputs === null) this.#host.ack(job.id);
        else this.#host.ackWith(job.id, outputs);
        slot.job = next;
        this.#host.freed();
        return next;
      }
    }
    slot.worker.send(event);
    return undefined;
  }

  /** The message succeeded and its worker goes idle: ack it. */
  complete(job: DispatchJob): void {
    this.deps.stats.processed++;
    if (job.outputs === null) this.#host.ack(job.id);
    else this.#host.ackWith(job.id, job.outputs);
    this.finish(job);
  }

  /**
   * The message is done here (acked, dead-lettered, scheduled or released) and its worker is idle:
   * give the worker its next message, if any.
   */
  finish(job: DispatchJob): void {
    if (this.held.get(job.id) !== job) return;
    job.batch?.release();
    const slot = job.slot;
    const next = this.#next(job, slot?.retiring === true);
    this.#leave(job);
    this.#handOn(slot, next);
  }

  /** The worker of `slot` (if any) left its message: it takes `next`, or is idle. */
  #handOn(slot: WorkerSlot | null, next: DispatchJob | undefined): void {
    if (slot !== null) {
      slot.job = next ?? null;
      // Sent from within the worker's transition: it is processed once the worker is idle.
      if (next !== undefined) slot.worker.send({ type: 'run', job: slot });
      else this.#slots().release(slot);
    }
    this.#host.freed();
    if (slot?.retiring) this.#wake(); // it left its key's next message to the others
  }

  #leave(job: DispatchJob): void {
    this.held.delete(job.id);
    job.trace?.end();
    job.slot = null;
    job.forget();
  }

  /**
   * What the worker that ran `job` takes next: the next message of its key, else the next ready one.
   * A `retiring` one takes none: its key's next joins the ready ones (the key stays taken meanwhile).
   */
  #next(job: DispatchJob, retiring = false): DispatchJob | undefined {
    if (this.closing) return undefined;
    const next = this.keys.next(job);
    if (!retiring) return next ?? this.#ready.shift();
    if (next !== undefined) this.#ready.push(next);
    return undefined;
  }

  /**
   * `job` (of an ordering key, past its in-process attempts) waits `delayMs` for its next attempt in
   * place of a durable retry: it stays held and pending, keeps its key, and carries the next
   * `x-retry-attempt` as a durable re-delivery would; its worker takes the next ready message.
   */
  park(job: DispatchJob, delayMs: number): void {
    if (this.closing || job.key === undefined) {
      this.finish(job);
      return;
    }
    if (this.held.get(job.id) !== job) return;
    job.redeliver({ ...job.entry.fields, [RETRY_ATTEMPT_FIELD]: String(scheduledAttempts(job.entry) + 1) });
    decode(this.deps, job);
    this.keys.park(job, job.key, delayMs);
    const slot = job.slot;
    job.slot = null;
    this.#handOn(slot, this.#ready.shift());
  }

  /** A parked message's backoff is over: back in line for a worker (its key waited for it). */
  #due(job: DispatchJob): void {
    if (this.held.get(job.id) !== job || this.closing) return;
    this.#ready.push(job);
    this.#wake();
  }

  /** Stop taking queued work; messages that never started, or wait in place, are forgotten (they stay pending). */
  close(): void {
    this.closing = true;
    this.batches.close();
    const { queued, parked } = this.keys.close();
    for (const job of parked) job.trace?.released();
    for (const job of [...queued, ...parked]) this.#leave(job);
    for (let job = this.#ready.shift(); job !== undefined; job = this.#ready.shift()) {
      job.batch?.release();
      this.#leave(job);
    }
  }

  /** Abort every running message (it stays pending); `toWorkers` also sends each worker `abort`. */
  abortAll(reason: Error, toWorkers: boolean): void {
    for (const job of this.held.values()) {
      job.released = true;
      job.controller?.abort(reason);
      if (toWorkers) job.slot?.worker.send({ type: 'abort' });
    }
  }
}
