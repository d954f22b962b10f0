import type { WorkerJob, WorkerRef } from '../../machines/dispatch-worker-machine.js';
import type { DispatchJob } from './dispatch-job.js';

/**
 * A worker's job slot: the `job` in its machine's context, owned by the worker pool (one per worker,
 * for the pool's life). The pool points it at the message the worker runs and, during a busy period,
 * moves it to the next message in place, without an event or a transition; the machine only reads it
 * (its `id`, in the snapshot). So nothing outside the machine writes into the worker's context, and
 * the context still names the message the handlers are on.
 */
export class WorkerSlot implements WorkerJob {
  readonly worker: WorkerRef;
  /** The message the worker's handlers are on; null while the worker is idle. */
  job: DispatchJob | null = null;
  /** The pool shrank below this worker: it takes no further message and leaves once idle (worker-roster.ts). */
  retiring = false;

  constructor(worker: WorkerRef) {
    this.worker = worker;
  }

  /** The id of the message in the slot, or of the first message of its batch (empty while idle). */
  get id(): string {
    const job = this.job;
    return job === null ? '' : (job.batch?.firstId ?? job.id);
  }

  /** How many messages the worker's batch handler is on (`router.batch`); null for a single message. */
  get size(): number | null {
    return this.job?.batch?.size ?? null;
  }
}

/** The message in a worker context's slot, while it is still in flight in its pool. */
export function jobOf(slot: WorkerJob | null): DispatchJob | undefined {
  const job = slot instanceof WorkerSlot ? slot.job : null;
  return job !== null && job.pool.held.get(job.id) === job ? job : undefined;
}
