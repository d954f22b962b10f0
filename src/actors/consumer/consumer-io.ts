import { errorText, exitReasonOf } from '../../machines/classify-error.js';
import {
  type IoStartInput,
  isRecoveryDue,
  type ReadOutput,
  workerId,
  workerSystemId,
} from '../../machines/consumer-machine.js';
import type { WorkerRef } from '../../machines/dispatch-worker-machine.js';
import { maxId } from '../../machines/ids.js';
import type { EntryWrite } from '../../storage/stream-storage.js';
import type { ConsumerDeps, IoSendBack, WorkerLookup } from '../consumer-deps.js';
import { MAX_WAITING_BEHIND_FAILURES } from '../dispatch/ordering-keys.js';
import { WorkerPool } from '../dispatch/worker-pool.js';
import { AckSink } from './ack-sink.js';
import { LeaseGate } from './lease-gate.js';
import { OwnershipTimer } from './ownership-timer.js';
import { abandonPool, drainPool, Waiters } from './pool-stop.js';
import { ReadSize } from './read-size.js';
import { recoverPending } from './recover-pending.js';
import { RetentionTimer } from './retention-timer.js';

/**
 * The I/O of one consumer incarnation: reads and claims on behalf of the consumer machine, hands
 * entries to its dispatch workers (`pool`), batches acks, keeps in-flight ids owned (XCLAIM JUSTID),
 * and drains on stop. Created when the incarnation starts, disposed when it ends: it holds every
 * timer the incarnation uses, so nothing outlives it.
 */
export class ConsumerIo {
  readonly deps: ConsumerDeps;
  readonly pool: WorkerPool;
  readonly readSize: ReadSize;
  #sendBack: IoSendBack;
  #waitingCapacity = false;
  #freeWaiters = new Waiters();
  /** Released whenever the pool runs empty (see pool-stop.ts). */
  #settleWaiters = new Waiters();
  #acks: AckSink;
  #ownership: OwnershipTimer;
  #retention: RetentionTimer | null;
  /** With `assignment: 'leased'`: reads and starts only while this runtime holds the partition. */
  #gate: LeaseGate | null = null;
  #closing = false;
  #disposed = false;
  #ownPelDone = false;
  /** The newest id this incarnation read (reported with the loop's answers and the drain's). */
  #lastId: string | null = null;
  /** When recovery last finished (`clock.now()`), as the consumer machine records it. */
  #lastRecoveryAt: number | null = null;
  /** The consumer machine's concurrency: workers `w0 … w(n-1)` take work (see `resize`). */
  #concurrency: number;
  readonly #workerAt: (index: number) => WorkerRef;

  constructor(deps: ConsumerDeps, input: IoStartInput, system: WorkerLookup, sendBack: IoSendBack) {
    this.deps = deps;
    this.#sendBack = sendBack;
    const { spec } = deps;
    this.#concurrency = input.concurrency;
    this.readSize = new ReadSize(input.concurrency, spec.prefetch);
    this.#workerAt = (i) => system.get(workerSystemId(input.session, workerId(i)));
    const workers = (): WorkerRef[] => Array.from({ length: input.concurrency }, (_, i) => this.#workerAt(i));
    this.pool = new WorkerPool(deps, this, workers);
    const onError = (error: unknown) => {
      if (this.#closing) return;
      this.#sendBack({ type: 'io.failed', reason: exitReasonOf(error), error: errorText(error) });
    };
    this.#acks = new AckSink(deps, onError);
    this.#ownership = new OwnershipTimer(deps, () => [...this.pool.held.keys()]);
    this.#retention = RetentionTimer.start(deps);
    if (deps.lease !== undefined) this.#gate = new LeaseGate(deps.lease, this);
  }

  /** The session is stopping (draining or disposed). */
  get closing(): boolean {
    return this.#closing;
  }

  fencePool(): void {
    this.pool.close();
  }

  unfencePool(): void {
    if (!this.#closing) this.pool.closing = false;
  }

  /** Messages held here: running, retrying, waiting for their ordering key or for a worker. */
  get held(): ReadonlyMap<string, unknown> {
    return this.pool.held;
  }

  /** Workers plus read-ahead (plus room for batches to fill): how many messages this consumer holds at most. */
  get #capacity(): number {
    return this.#concurrency + this.readSize.readAhead + this.pool.batches.room;
  }

  /**
   * Free capacity: workers plus read-ahead, minus messages in flight. Messages that wait behind a
   * failing message of their ordering key (for its in-place retry) do not count, up to
   * `MAX_WAITING_BEHIND_FAILURES`: a failing key does not stop the reads for the other keys.
   */
  get free(): number {
    const waiting = Math.min(this.pool.keys.waiting, MAX_WAITING_BEHIND_FAILURES);
    return this.#capacity - this.pool.held.size + waiting;
  }

  // ── Reading ──────────────────────────────────────────────────────────────────────────────

  /**
   * Consumer machine entered `polling`: read in a loop, handing each batch to the workers, while enough
   * capacity is free and no recovery is due. Answers `io.read.done` for the first read (the consumer
   * is healthy) and for the one after which the loop stops (`ready` false), or `io.read.failed`; the
   * reads in between are no events (see the consumer machine's spec).
   */
  read(): void {
    this.#loop().catch((error: unknown) =>
      this.#sendBack({ type: 'io.read.failed', error, lastId: this.#lastId }),
    );
  }

  async #loop(): Promise<void> {
    for (let first = true; ; first = false) {
      const output = this.#gate === null ? await this.#poll() : await this.#pollLeased(this.#gate, first);
      if (first || !output.ready) this.#sendBack({ type: 'io.read.done', output });
      if (!output.ready) return;
    }
  }

  /** A leased partition's read: only while the lease is held, never blocking past it (lease-gate.ts). */
  async #pollLeased(gate: LeaseGate, first: boolean): Promise<ReadOutput> {
    const now = () => this.deps.clock.now();
    const blockMs = await gate.beforeRead(first, now);
    if (blockMs === null) return { count: 0, lastId: this.#lastId, now: now(), ready: !this.#closing };
    return this.#poll(gate, Math.min(this.deps.spec.blockMs, blockMs));
  }

  async #poll(gate: LeaseGate | null = null, blockMs = this.deps.spec.blockMs): Promise<ReadOutput> {
    const { spec, storage, clock } = this.deps;
    const max = Math.min(spec.count ?? Infinity, this.#capacity);
    // Without read-ahead, handlers that finish within this turn of the event loop free their workers
    // first, so the read asks for a full batch instead of just the threshold that woke the consumer.
    // With read-ahead, the read goes out at once: the workers run what is queued while it is in flight.
    if (this.readSize.readAhead === 0 && this.free < max) await yieldToEventLoop();
    const count = Math.max(1, Math.min(max, this.free));
    const started = performance.now();
    const read = storage.readGroup(spec.stream, spec.group, spec.consumer, { count, blockMs });
    const epoch = gate?.lease.epoch ?? 0;
    let entries = gate === null ? await read : await gate.track(read);
    // A full batch means entries were waiting: the read did not block, its time is a round trip.
    if (entries.length === count) this.readSize.read(performance.now() - started);
    // A stop that came while the read was in flight: leave what it returned pending.
    if (this.#closing) return { count: 0, lastId: this.#lastId, now: clock.now(), ready: false };
    // The lease was lost or handed over while the read was in flight: the next owner takes them.
    if (gate !== null && !gate.mayDispatch(epoch)) entries = [];
    this.pool.dispatch(entries);
    const last = entries.at(-1);
    if (last !== undefined) this.#lastId = maxId(this.#lastId, last.id);
    const now = clock.now();
    const ready = this.#readReady() && !isRecoveryDue(this.#lastRecoveryAt, now, spec.claim.intervalMs);
    return { count: entries.length, lastId: this.#lastId, now, ready };
  }

  /**
   * Once per incarnation, re-process this consumer's own pending entries (a crash left them); then
   * walk XAUTOCLAIM over the whole PEL for entries idle past `claim.minIdleMs` (see recover-pending.ts).
   */
  async recover(signal: AbortSignal): Promise<{ lastId: string | null; now: number }> {
    // A leased partition's pending entries are re-processed by its gate when the lease is gained;
    // claims run only while the lease is held and that was done.
    const gate = this.#gate;
    const ownPel = gate === null && !this.#ownPelDone;
    const stopped = () => signal.aborted || this.#closing;
    const claims = gate === null || gate.settled;
    const { complete, lastId } = await recoverPending(this, { ownPel, stopped, claims });
    if (ownPel && complete) this.#ownPelDone = true;
    this.#lastRecoveryAt = this.deps.clock.now();
    return { lastId, now: this.#lastRecoveryAt };
  }

  /** Ids handled here whose batched XACK has not landed yet (see recover-pending.ts). */
  unconfirmedAcks(): ReadonlySet<string> {
    return this.#acks.unconfirmed();
  }

  /** Resolves when there is free capacity (at once when stopping). */
  whenFree(): Promise<void> {
    if (this.free > 0 || this.#closing) return Promise.resolve();
    return this.#freeWaiters.wait();
  }

  /** Consumer machine entered `dispatching`: send `io.capacity` once enough capacity is free. */
  awaitCapacity(): void {
    this.#waitingCapacity = true;
    this.#checkCapacity();
  }

  #checkCapacity(): void {
    if (!this.#waitingCapacity || this.#closing) return;
    if (this.#readReady()) {
      this.#waitingCapacity = false;
      this.#sendBack({ type: 'io.capacity', now: this.deps.clock.now() });
    }
  }

  /**
   * Enough capacity is free for the next read. Without read-ahead, when half the workers are free;
   * with it, when half the read-ahead was taken, so the workers still have queued work while the read
   * is in flight.
   */
  #readReady(): boolean {
    const readAhead = this.readSize.readAhead;
    const half = Math.ceil((readAhead > 0 ? readAhead : this.#concurrency) / 2);
    return this.free >= Math.max(1, Math.min(this.deps.spec.count ?? Infinity, half));
  }

  /**
   * The consumer machine runs `concurrency` workers from now on (it spawned the new ones): the pool
   * puts new workers to work and retires those above it (each reported back, to be stopped, once
   * idle); reads and the read-ahead follow the new count.
   */
  resize(concurrency: number): void {
    this.#concurrency = concurrency;
    this.readSize.resize(concurrency);
    this.pool.resize(concurrency, this.#workerAt);
    this.freed();
  }

  // ── What the worker pool reports ──────────────────────────────────────────────────────────

  retired(ids: string[]): void {
    // After the worker's own transition to idle, which reported it.
    queueMicrotask(() => this.#sendBack({ type: 'io.workers.retired', ids }));
  }

  ack(id: string): void {
    this.#acks.add(id);
  }

  ackWith(id: string, outputs: readonly EntryWrite[]): void {
    this.#acks.addWith(id, outputs);
  }

  handled(ms: number): void {
    this.readSize.handled(ms);
  }

  freed(): void {
    this.#freeWaiters.release();
    if (this.pool.held.size === 0) this.#settleWaiters.release();
    if (this.#waitingCapacity) this.#checkCapacity();
  }

  // ── Stopping ─────────────────────────────────────────────────────────────────────────────

  /** The group was recreated at 0 below the ids read so far (see create-group.ts): forget them. */
  forgetLastId(): void {
    this.#lastId = null;
  }

  /**
   * Stop taking work, let in-flight handlers finish until `timeoutMs`, then abort them through their
   * signal (what did not finish stays pending), and flush acks.
   */
  async drain(timeoutMs: number | null): Promise<{ lastId: string | null }> {
    this.#closing = true;
    this.deps.lease?.wake();
    this.#waitingCapacity = false;
    this.#freeWaiters.release();
    await drainPool(this.deps, this.pool, this.#settleWaiters, timeoutMs);
    await this.#acks.flush();
    return { lastId: this.#lastId };
  }

  /** End of the incarnation: stop every timer; anything still running is aborted and stays pending. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#closing = true;
    this.#ownership.stop();
    this.#retention?.stop();
    this.#gate?.dispose();
    this.#acks.close();
    abandonPool(this.pool);
    this.#freeWaiters.release();
    this.#settleWaiters.release();
  }

  /** What inspection tools see of the `io` actor's snapshot (they serialize it). */
  toJSON(): { held: number; readAhead: number } {
    return { held: this.pool.held.size, readAhead: this.readSize.readAhead };
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
