import type { AnyActorRef } from 'xstate';
import { createJob, type DispatchJob } from '../dispatch/dispatch-job.js';
import { type AttemptDeps, decode, errorText, runAttempt } from '../dispatch/run-attempt.js';
import { ConsumerStoppingError } from '../errors/consumer-stopping-error.js';
import { type PollOutput, workerSystemId } from '../machines/consumer-machine.js';
import type {
  DeadLetterInput,
  ScheduleRetryInput,
  SettledEvent,
} from '../machines/dispatch-worker-machine.js';
import {
  canSchedule,
  reportDeadLetter,
  reportRetry,
  reportScheduled,
  scheduleRetry,
  writeDeadLetter,
} from '../retry/failure-path.js';
import type { StreamEntry } from '../storage/stream-storage.js';
import { AckBatcher } from './ack-batcher.js';
import { OwnershipTimer } from './ownership-timer.js';
import { recoverPending } from './recover-pending.js';
import type { SessionDeps, SessionSendBack, WorkerLookup } from './session-deps.js';

/** After aborting handlers at the stop deadline, how long to wait for them to settle, ms. */
const ABORT_GRACE_MS = 1000;

/**
 * The I/O of one consumer incarnation: reads and claims on behalf of the consumer machine, hands
 * entries to the worker pool (respecting ordering keys), batches acks, keeps in-flight ids owned
 * (XCLAIM JUSTID), and drains on stop. Created when the incarnation starts, disposed when it ends:
 * it holds every timer the incarnation uses, so nothing outlives it.
 */
export class ConsumerSession {
  readonly deps: SessionDeps;
  readonly attemptDeps: AttemptDeps;
  readonly inFlight = new Map<string, DispatchJob>();
  #session: string;
  #system: WorkerLookup | null;
  #sendBack: SessionSendBack;
  #idle: AnyActorRef[] | null = null;
  #keyQueues = new Map<string, DispatchJob[]>();
  #busy = new Map<string, string>();
  /** Prefetched jobs waiting for a free worker, in stream order. */
  #ready: DispatchJob[] = [];
  #waitingCapacity = false;
  #threshold: number;
  #freeWaiters: Array<() => void> = [];
  #settleWaiters: Array<() => void> = [];
  #acks: AckBatcher;
  #ownership: OwnershipTimer;
  #closing = false;
  #disposed = false;
  #ownPelDone = false;

  constructor(deps: SessionDeps, session: string, system: WorkerLookup | null, sendBack: SessionSendBack) {
    this.deps = deps;
    this.attemptDeps = deps;
    this.#session = session;
    this.#system = system;
    this.#sendBack = sendBack;
    const { spec } = deps;
    this.#threshold = Math.max(1, Math.min(spec.count, Math.ceil((spec.concurrency + spec.prefetch) / 2)));
    this.#acks = new AckBatcher({
      storage: deps.storage,
      stream: spec.stream,
      group: spec.group,
      retryMs: 200,
      setTimer: (fn, ms) => deps.clock.setTimeout(fn, ms),
      clearTimer: (handle) => deps.clock.clearTimeout(handle),
      onError: (error) => {
        if (this.#closing) return;
        this.#sendBack({
          type: 'io.failed',
          reason: codeOf(error) === 'NOGROUP' ? 'nogroup' : 'fatal',
          error: errorText(error),
        });
      },
    });
    this.#ownership = new OwnershipTimer(deps, () => [...this.inFlight.keys()]);
  }

  /**
   * Free capacity: workers plus prefetch, minus messages in flight (running, retrying, waiting for
   * their ordering key or, with prefetch, for a worker).
   */
  get free(): number {
    return this.deps.spec.concurrency + this.deps.spec.prefetch - this.inFlight.size;
  }

  // ── Reading ──────────────────────────────────────────────────────────────────────────────

  async poll(signal: AbortSignal): Promise<PollOutput> {
    const { spec, storage, clock } = this.deps;
    // Handlers that finish within this turn of the event loop free their workers first, so the
    // read asks for a full batch instead of just the threshold that woke the consumer.
    if (this.free < spec.count) await yieldToEventLoop();
    const count = Math.max(1, Math.min(spec.count, this.free));
    const entries = await storage.readGroup(spec.stream, spec.group, spec.consumer, {
      count,
      blockMs: spec.blockMs,
    });
    // A stop that came while the read was in flight: leave what it returned pending.
    if (signal.aborted || this.#closing) return { count: 0, lastId: null, now: clock.now() };
    this.dispatch(entries);
    const last = entries.length > 0 ? entries[entries.length - 1]!.id : null;
    return { count: entries.length, lastId: last, now: clock.now() };
  }

  /**
   * Once per incarnation, re-process this consumer's own pending entries (a crash left them); then
   * walk XAUTOCLAIM over the whole PEL for entries idle past `claim.minIdleMs` (see recover-pending.ts).
   */
  async recover(signal: AbortSignal): Promise<{ lastId: string | null; now: number }> {
    const ownPel = !this.#ownPelDone;
    const stopped = () => signal.aborted || this.#closing;
    const complete = await recoverPending(this, { ownPel, stopped });
    if (ownPel && complete) this.#ownPelDone = true;
    return { lastId: null, now: this.deps.clock.now() };
  }

  /** Resolves when a worker slot is free (at once when stopping). */
  whenFree(): Promise<void> {
    return this.#waitForFree();
  }

  // ── Dispatching ──────────────────────────────────────────────────────────────────────────

  /** Hand entries to workers; entries already in flight here are skipped. */
  dispatch(entries: readonly StreamEntry[]): void {
    const orderingKey = this.deps.spec.orderingKey;
    for (const entry of entries) {
      if (this.inFlight.has(entry.id)) continue;
      const job = createJob(entry);
      this.inFlight.set(job.id, job);
      if (orderingKey !== undefined) {
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
        if (job.key !== undefined) {
          const queue = this.#keyQueues.get(job.key);
          if (queue !== undefined) {
            queue.push(job);
            continue;
          }
          this.#keyQueues.set(job.key, []);
        }
      }
      this.#start(job);
    }
  }

  #start(job: DispatchJob): void {
    const worker = this.#workers().pop();
    if (worker === undefined) this.#ready.push(job);
    else this.#run(job, worker);
  }

  /**
   * The fast path: a message's first attempt runs inline on its worker slot, without a machine
   * transition, and a success goes straight to the ack batcher. Only when that attempt does not
   * succeed is the message handed to the worker machine (`run`), which replays the outcome on entering
   * `running` and takes the failure path (retrying, deadLettering, scheduling) as visible transitions.
   * XState costs ~5 µs per transition; two per message would halve the throughput of a fast handler.
   */
  #run(job: DispatchJob, worker: AnyActorRef): void {
    job.worker = worker;
    this.#busy.set(worker.id, job.id);
    runAttempt(this.attemptDeps, job, 1).then(
      (event) => this.#afterFirstAttempt(job, worker, event),
      (error: unknown) =>
        this.#afterFirstAttempt(job, worker, {
          type: 'handler.settled',
          outcome: 'failed',
          error: errorText(error),
        }),
    );
  }

  #afterFirstAttempt(job: DispatchJob, worker: AnyActorRef, event: SettledEvent): void {
    if (this.inFlight.get(job.id) !== job) return;
    if (event.outcome === 'ok') this.complete(job);
    else if (event.outcome === 'released') this.release(job);
    else {
      job.firstOutcome = event;
      worker.send({ type: 'run', job });
    }
  }

  /** Worker id → id of the message its slot runs (fast path or machine), for snapshots. */
  get busyWorkers(): ReadonlyMap<string, string> {
    return this.#busy;
  }

  #workers(): AnyActorRef[] {
    if (this.#idle === null) {
      this.#idle = [];
      for (let i = this.deps.spec.concurrency - 1; i >= 0; i--) {
        const ref = this.#system?.get(workerSystemId(this.#session, `w${i}`));
        if (ref !== undefined) this.#idle.push(ref as AnyActorRef);
      }
    }
    return this.#idle;
  }

  /** Consumer machine entered `dispatching`: send `io.capacity` as soon as enough workers are free. */
  awaitCapacity(): void {
    this.#waitingCapacity = true;
    this.#checkCapacity();
  }

  #checkCapacity(): void {
    if (this.#waitingCapacity && !this.#closing && this.free >= this.#threshold) {
      this.#waitingCapacity = false;
      this.#sendBack({ type: 'io.capacity', now: this.deps.clock.now() });
    }
  }

  #waitForFree(): Promise<void> {
    if (this.free > 0 || this.#closing) return Promise.resolve();
    return new Promise((resolve) => this.#freeWaiters.push(resolve));
  }

  // ── Worker callbacks ─────────────────────────────────────────────────────────────────────

  runAttempt(job: DispatchJob, attempt: number, worker: AnyActorRef): void {
    const first = job.firstOutcome;
    if (attempt === 1 && first !== null) {
      job.firstOutcome = null;
      worker.send(first);
      return;
    }
    runAttempt(this.attemptDeps, job, attempt).then(
      (event: SettledEvent) => worker.send(event),
      (error: unknown) =>
        worker.send({ type: 'handler.settled', outcome: 'failed', error: errorText(error) }),
    );
  }

  complete(job: DispatchJob): void {
    this.deps.stats.processed++;
    this.#acks.add(job.id);
    this.#finish(job);
  }

  release(job: DispatchJob): void {
    this.#finish(job);
  }

  /** Attempt `attempt` failed and another follows: pick its backoff (read by the worker's delay). */
  retrying(job: DispatchJob, attempt: number, error: string): void {
    reportRetry(this.deps, job, attempt, error);
  }

  deadLetter(input: DeadLetterInput): Promise<string> {
    return writeDeadLetter(this.deps, input);
  }

  deadLettered(input: DeadLetterInput, deadLetterId: string): void {
    reportDeadLetter(this.deps, input, deadLetterId);
    this.#finish(input.job as DispatchJob);
  }

  /** Whether a message that used up its in-process attempts goes to the retry scheduler. */
  canSchedule(job: DispatchJob): boolean {
    return canSchedule(this.deps, job);
  }

  /** Hand the message to the retry scheduler, then ack it; resolves the delay, ms. */
  scheduleRetry(input: ScheduleRetryInput): Promise<number> {
    return scheduleRetry(this.deps, input);
  }

  scheduled(input: ScheduleRetryInput, delayMs: number): void {
    reportScheduled(this.deps, input, delayMs);
    this.#finish(input.job as DispatchJob);
  }

  #finish(job: DispatchJob): void {
    if (this.inFlight.get(job.id) !== job) return;
    this.inFlight.delete(job.id);
    const worker = job.worker;
    job.worker = null;
    if (worker !== null) this.#busy.delete(worker.id);
    let reused = false;
    if (job.key !== undefined) {
      const queue = this.#keyQueues.get(job.key);
      const next = queue?.shift();
      if (next !== undefined && worker !== null && !this.#closing) {
        this.#run(next, worker);
        reused = true;
      } else if (queue !== undefined && queue.length === 0) {
        this.#keyQueues.delete(job.key);
      }
    }
    if (!reused && worker !== null) {
      const next = this.#closing ? undefined : this.#ready.shift();
      if (next !== undefined) this.#run(next, worker);
      else this.#idle?.push(worker);
    }
    if (this.#freeWaiters.length > 0) for (const resolve of this.#freeWaiters.splice(0)) resolve();
    if (this.inFlight.size === 0 && this.#settleWaiters.length > 0)
      for (const resolve of this.#settleWaiters.splice(0)) resolve();
    this.#checkCapacity();
  }

  // ── Stopping ─────────────────────────────────────────────────────────────────────────────

  /**
   * Stop taking work, let in-flight handlers finish until `timeoutMs`, then abort them through their
   * signal (what did not finish stays pending), and flush acks.
   */
  async drain(timeoutMs: number | null): Promise<void> {
    this.#closing = true;
    this.#waitingCapacity = false;
    for (const resolve of this.#freeWaiters.splice(0)) resolve();
    // Jobs still waiting for their ordering key never started: leave them pending.
    for (const queue of this.#keyQueues.values())
      for (const job of queue.splice(0)) this.inFlight.delete(job.id);
    for (const job of this.#ready.splice(0)) this.inFlight.delete(job.id);
    const deadline = timeoutMs ?? 10_000;
    if (this.inFlight.size > 0) await this.#settledWithin(deadline);
    if (this.inFlight.size > 0) {
      this.deps.logger.warn(
        { inFlight: this.inFlight.size },
        'stop deadline reached; aborting handlers, their messages stay pending',
      );
      for (const job of this.inFlight.values()) {
        job.released = true;
        job.controller?.abort(new ConsumerStoppingError());
        job.worker?.send({ type: 'abort' });
      }
      await this.#settledWithin(Math.min(ABORT_GRACE_MS, deadline));
    }
    await this.#acks.flush();
  }

  #settledWithin(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimeout(() => done(), ms);
      const done = () => {
        this.deps.clock.clearTimeout(timer);
        resolve();
      };
      this.#settleWaiters.push(done);
    });
  }

  /** End of the incarnation: stop every timer; anything still running is aborted and stays pending. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#closing = true;
    this.#ownership.stop();
    this.#acks.close();
    for (const job of this.inFlight.values()) {
      job.released = true;
      job.controller?.abort(
        new ConsumerStoppingError(
          'The consumer was stopped; this message stays pending and is handled again later',
        ),
      );
    }
    this.inFlight.clear();
    for (const resolve of this.#freeWaiters.splice(0)) resolve();
    for (const resolve of this.#settleWaiters.splice(0)) resolve();
  }
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
