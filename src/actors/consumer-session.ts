import type { Logger } from 'pino';
import type { AnyActorRef } from 'xstate';

/** The part of XState's actor system the session uses: finding its workers by system id. */
export interface WorkerLookup {
  get(systemId: string): unknown;
}

import type { Clock } from '../clock.js';
import { exponentialDelay } from '../machines/backoff.js';
import { type PollOutput, workerSystemId } from '../machines/consumer-machine.js';
import type {
  DeadLetterInput,
  ScheduleRetryInput,
  SettledEvent,
} from '../machines/dispatch-worker-machine.js';
import type { Router } from '../routing/router.js';
import type { StreamEntry, StreamStorage } from '../storage/stream-storage.js';
import { AckBatcher } from './ack-batcher.js';
import type { ConsumerStats } from './consumer-stats.js';
import { deadLetterFields } from './dead-letter-fields.js';
import { createJob, type DispatchJob } from './dispatch-job.js';
import { RETRY_ATTEMPT_FIELD, type RetryScheduler, scheduledAttempts } from './retry-scheduler.js';
import { type AttemptDeps, decode, errorText, runAttempt } from './run-attempt.js';
import type { EventBus } from './runtime-events.js';
import type { ResolvedConsumer } from './runtime-options.js';

export interface SessionDeps {
  spec: ResolvedConsumer;
  storage: StreamStorage;
  router: Router<unknown>;
  container: unknown;
  logger: Logger;
  clock: Clock;
  stats: ConsumerStats;
  bus: EventBus;
  retryScheduler: RetryScheduler | undefined;
  random: () => number;
}

/** Events the session sends to its consumer machine. */
export type SessionSendBack = (
  event:
    | { type: 'io.capacity'; now: number }
    | { type: 'io.failed'; reason: 'nogroup' | 'fatal'; error: string },
) => void;

/** Page size of the own-PEL walk during recovery. */
const PEL_PAGE = 100;
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
  #touchTimer: unknown = null;
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
    this.#scheduleTouch();
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
   * Once per incarnation, re-process this consumer's own pending entries (a crash left them);
   * then walk XAUTOCLAIM over the whole PEL for entries idle past `claim.minIdleMs`.
   */
  async recover(signal: AbortSignal): Promise<{ lastId: string | null; now: number }> {
    const { spec, storage, clock, logger } = this.deps;
    let recovered = 0;
    if (!this.#ownPelDone) {
      let start = '-';
      for (;;) {
        const page = await storage.pending(spec.stream, spec.group, {
          consumer: spec.consumer,
          count: PEL_PAGE,
          start,
        });
        if (page.length === 0) break;
        start = `(${page[page.length - 1]!.id}`;
        const ids = page.filter((p) => !this.inFlight.has(p.id)).map((p) => p.id);
        while (ids.length > 0) {
          await this.#waitForFree();
          if (signal.aborted || this.#closing) return { lastId: null, now: clock.now() };
          const chunk = ids.splice(0, this.free);
          const claimed = await storage.claim(spec.stream, spec.group, spec.consumer, chunk, {
            minIdleMs: 0,
          });
          recovered += claimed.entries.length;
          this.dispatch(claimed.entries);
        }
      }
      this.#ownPelDone = true;
    }
    let cursor = '0-0';
    do {
      await this.#waitForFree();
      if (signal.aborted || this.#closing) return { lastId: null, now: clock.now() };
      const page = await storage.autoClaim(spec.stream, spec.group, spec.consumer, {
        minIdleMs: spec.claim.minIdleMs,
        count: Math.max(1, this.free),
        cursor,
      });
      if (signal.aborted || this.#closing) return { lastId: null, now: clock.now() };
      recovered += page.entries.length;
      this.dispatch(page.entries);
      if (page.deletedIds.length > 0) {
        logger.warn(
          { ids: page.deletedIds.slice(0, 20), count: page.deletedIds.length },
          'pending entries no longer in the stream were dropped from the PEL',
        );
      }
      cursor = page.cursor;
    } while (cursor !== '0-0');
    if (recovered > 0) logger.info({ recovered }, 'recovered pending entries');
    await this.#removeStaleConsumers();
    return { lastId: null, now: clock.now() };
  }

  // Names of consumers that went away (default names carry a pid) would pile up in the group. Only
  // names with nothing pending go, in one atomic step, so no pending entry is ever dropped; a failure
  // here is housekeeping, never a reason to stop consuming.
  async #removeStaleConsumers(): Promise<void> {
    const { spec, storage, logger } = this.deps;
    if (spec.staleConsumerMs === null || storage.deleteIdleConsumers === undefined) return;
    try {
      const removed = await storage.deleteIdleConsumers(spec.stream, spec.group, {
        minIdleMs: spec.staleConsumerMs,
        keep: spec.consumer,
      });
      if (removed.length > 0) logger.info({ removed }, 'removed stale consumers with nothing pending');
    } catch (error) {
      logger.debug({ err: error }, 'could not remove stale consumers');
    }
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
    const { spec, stats, bus, random } = this.deps;
    stats.retried++;
    job.retryDelayMs = exponentialDelay(attempt, spec.retry.backoff, random);
    if (bus.active) {
      bus.emit({
        type: 'message.retrying',
        at: this.deps.clock.now(),
        consumerId: spec.id,
        messageId: job.id,
        attempt,
        delayMs: job.retryDelayMs,
        error,
      });
    }
  }

  async deadLetter(input: DeadLetterInput): Promise<string> {
    const job = input.job as DispatchJob;
    const { spec, storage, clock } = this.deps;
    const fields = deadLetterFields(job.entry, {
      reason: input.reason,
      error: input.error,
      sourceStream: spec.stream,
      group: spec.group,
      deliveries: job.entry.deliveries,
      at: clock.now(),
    });
    return storage.deadLetter({
      deadStream: spec.deadLetter.stream,
      sourceStream: spec.stream,
      group: spec.group,
      id: job.id,
      fields,
      ...(spec.deadLetter.maxLen === undefined ? {} : { maxLen: spec.deadLetter.maxLen }),
    });
  }

  deadLettered(input: DeadLetterInput, deadLetterId: string): void {
    const job = input.job as DispatchJob;
    this.deps.stats.recordDeadLetter(input.reason);
    this.deps.logger.warn(
      { messageId: job.id, reason: input.reason, error: input.error, deadLetterId },
      'message dead-lettered',
    );
    if (this.deps.bus.active) {
      this.deps.bus.emit({
        type: 'message.dead-lettered',
        at: this.deps.clock.now(),
        consumerId: this.deps.spec.id,
        messageId: job.id,
        reason: input.reason,
        error: input.error,
        deadLetterId,
      });
    }
    this.#finish(job);
  }

  /**
   * Whether a message that used up its in-process attempts goes to the retry scheduler: one is
   * configured and the message's `x-retry-attempt` is below `retry.scheduled.attempts`.
   */
  canSchedule(job: DispatchJob): boolean {
    return (
      this.deps.retryScheduler !== undefined &&
      scheduledAttempts(job.entry) < this.deps.spec.retry.scheduled.attempts
    );
  }

  /**
   * Hand the message to the retry scheduler with the next `x-retry-attempt` and that attempt's
   * delay, then ack the source. Resolves the delay, ms.
   */
  async scheduleRetry(input: ScheduleRetryInput): Promise<number> {
    const job = input.job as DispatchJob;
    const { spec, storage, retryScheduler, random } = this.deps;
    if (retryScheduler === undefined) throw new Error('No retryScheduler configured');
    const next = scheduledAttempts(job.entry) + 1;
    const delayMs = exponentialDelay(next, spec.retry.scheduled.backoff, random);
    const entry = { ...job.entry, fields: { ...job.entry.fields, [RETRY_ATTEMPT_FIELD]: String(next) } };
    await retryScheduler.schedule(spec.stream, entry, delayMs);
    await storage.ack(spec.stream, spec.group, [job.id]);
    return delayMs;
  }

  scheduled(input: ScheduleRetryInput, delayMs: number): void {
    const job = input.job as DispatchJob;
    this.deps.stats.scheduled++;
    const retryAttempt = scheduledAttempts(job.entry) + 1;
    this.deps.logger.info(
      { messageId: job.id, retryAttempt, delayMs, error: input.error },
      'message handed to the retry scheduler',
    );
    if (this.deps.bus.active) {
      this.deps.bus.emit({
        type: 'message.scheduled',
        at: this.deps.clock.now(),
        consumerId: this.deps.spec.id,
        messageId: job.id,
        attempt: input.attempt,
        retryAttempt,
        delayMs,
        error: input.error,
      });
    }
    this.#finish(job);
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

  // ── Ownership of slow messages ───────────────────────────────────────────────────────────

  #scheduleTouch(): void {
    const every = Math.max(50, Math.floor(this.deps.spec.claim.minIdleMs / 3));
    this.#touchTimer = this.deps.clock.setTimeout(() => {
      this.#touchTimer = null;
      if (this.#disposed) return;
      const ids = [...this.inFlight.keys()];
      const done = () => {
        if (!this.#disposed) this.#scheduleTouch();
      };
      if (ids.length === 0) return done();
      const { spec, storage, logger } = this.deps;
      storage.touch(spec.stream, spec.group, spec.consumer, ids).then(done, (error: unknown) => {
        logger.debug({ err: error }, 'could not reset the idle time of in-flight messages');
        done();
      });
    }, every);
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
        job.controller?.abort(new Error('The consumer is stopping'));
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
    if (this.#touchTimer !== null) this.deps.clock.clearTimeout(this.#touchTimer);
    this.#touchTimer = null;
    this.#acks.close();
    for (const job of this.inFlight.values()) {
      job.released = true;
      job.controller?.abort(new Error('The consumer was stopped'));
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
