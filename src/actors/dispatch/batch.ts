import type { DeadReason } from '../../machines/dispatch-worker-machine.js';
import type { BatchSettings } from '../../routing/batch.js';
import type { ConsumerDeps } from '../consumer-deps.js';
import type { DispatchJob } from './dispatch-job.js';

/** What a batch tells the pool's host about its messages (the host's `ack` and `freed`). */
export interface BatchHost {
  ack(id: string): void;
  freed(): void;
}

/** Why a message of a batch is to be dead-lettered without another run. */
export interface BatchVerdict {
  reason: DeadReason;
  error: string;
}

/**
 * Messages of one type run together by a batch handler (`router.batch`) on one worker. Its first
 * message, the **head**, stands for the batch in the pool: it is what the ready queue and the
 * worker's slot hold (`head.batch` is this), and it stays in the pool until the batch ends, even
 * when it was acked early (a `BatchError` that did not name it). Every other message leaves the pool
 * as soon as it is done: acked, dead-lettered or scheduled one by one (`settle`).
 */
export class Batch {
  readonly head: DispatchJob;
  readonly settings: BatchSettings<unknown>;
  readonly type: string;
  /** Messages still in the batch (not yet acked, dead-lettered or scheduled), in stream order. */
  members: DispatchJob[];
  /** Members to dead-letter at the end of the batch (a `NonRetryableError` in a `BatchError`): they no longer run. */
  readonly verdicts = new Map<DispatchJob, BatchVerdict>();
  /** Each member's error of the last attempt that failed it. */
  readonly errors = new Map<DispatchJob, string>();
  /** Messages the latest attempt ran: its handler time over this is the per-message time the read size needs. */
  ran = 0;
  readonly deps: ConsumerDeps;
  readonly #host: BatchHost;
  readonly #ended: (batch: Batch) => void;

  constructor(
    members: DispatchJob[],
    type: string,
    settings: BatchSettings<unknown>,
    context: { deps: ConsumerDeps; host: BatchHost; ended: (batch: Batch) => void },
  ) {
    const head = members[0];
    if (head === undefined) throw new Error('A batch needs at least one message; this is a bug');
    this.head = head;
    this.members = members;
    this.type = type;
    this.settings = settings;
    this.deps = context.deps;
    this.#host = context.host;
    this.#ended = context.ended;
    head.batch = this;
  }

  /** Messages in the batch now. */
  get size(): number {
    return this.members.length;
  }

  /** The id of its first message still in the batch (its head's once all are done). */
  get firstId(): string {
    return this.members[0]?.id ?? this.head.id;
  }

  /** Members that run in the next attempt: those without a dead-letter verdict. */
  active(): DispatchJob[] {
    return this.verdicts.size === 0 ? this.members : this.members.filter((m) => !this.verdicts.has(m));
  }

  /**
   * `member` is done here: acked (`ack`, it succeeded), or dead-lettered or scheduled (its own write
   * acked it). It leaves the batch, and the pool unless it is the head (which leaves with the batch).
   */
  settle(member: DispatchJob, ack: boolean): void {
    const at = this.members.indexOf(member);
    if (at >= 0) this.members.splice(at, 1);
    this.verdicts.delete(member);
    this.errors.delete(member);
    if (ack) {
      this.deps.stats.processed++;
      this.#host.ack(member.id);
    }
    if (member !== this.head) this.#drop(member);
  }

  /** Every member succeeded: ack them all at once (the ack batcher sends them in one XACK). */
  complete(): void {
    for (const member of this.members.splice(0)) {
      this.deps.stats.processed++;
      this.#host.ack(member.id);
      if (member !== this.head) this.#drop(member);
    }
  }

  /**
   * The batch ends (its worker is idle again, or it never started and the consumer stops): what is
   * left leaves the pool unacked and stays pending in Redis. Called by the pool before the head leaves.
   */
  release(): void {
    for (const member of this.members.splice(0)) if (member !== this.head) this.#drop(member);
    this.verdicts.clear();
    this.errors.clear();
    this.#ended(this);
  }

  #drop(member: DispatchJob): void {
    const { held } = this.head.pool;
    if (held.get(member.id) !== member) return;
    held.delete(member.id);
    member.forget();
    this.#host.freed();
  }
}
