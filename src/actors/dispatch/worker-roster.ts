import type { WorkerRef } from '../../machines/dispatch-worker-machine.js';
import { workerId } from '../../machines/ids.js';
import { WorkerSlot } from './worker-slot.js';

/**
 * The worker slots of a pool, one per worker actor `w0 …`, and which of them are idle. It changes
 * size while the consumer runs (`runtime.setConcurrency`):
 *
 * - growing adds a slot for every worker below the new size that has none (the consumer machine has
 *   just spawned it) and takes back a retiring worker that is still busy;
 * - shrinking retires the workers from the new size up: an idle one leaves at once, a busy one is
 *   marked `retiring` and leaves when it is idle again (`release`): the pool gives it no further
 *   message, so it finishes the one it holds (its retries and failure path included) and nothing it
 *   held is dropped. Each worker that leaves is reported to `retired`, so the consumer machine stops
 *   its actor.
 *
 * @example
 * const roster = new WorkerRoster(workers, (ids) => sendBack({ type: 'io.workers.retired', ids }))
 * roster.resize(2, workerAt) // w2 … leave (idle ones now, busy ones after their message)
 */
export class WorkerRoster {
  /** Every worker's slot by index, busy, idle or retiring. */
  readonly #slots = new Map<number, WorkerSlot>();
  readonly #indexes = new Map<WorkerSlot, number>();
  /** Idle slots, popped from the end: the lowest index first after a (re)build. */
  readonly #idle: WorkerSlot[];
  readonly #retired: (ids: string[]) => void;

  constructor(workers: readonly WorkerRef[], retired: (ids: string[]) => void) {
    this.#retired = retired;
    this.#idle = workers.map((worker, index) => this.#add(index, worker)).reverse();
  }

  /** Workers in the pool, retiring ones included. */
  get size(): number {
    return this.#slots.size;
  }

  /** An idle slot to run a message on, if any. */
  take(): WorkerSlot | undefined {
    return this.#idle.pop();
  }

  /** The slot's worker is idle again: it takes more work, or leaves the pool when it is retiring. */
  release(slot: WorkerSlot): void {
    if (!slot.retiring) {
      this.#idle.push(slot);
      return;
    }
    const index = this.#indexes.get(slot);
    if (index === undefined) return;
    this.#remove(index, slot);
    this.#retired([workerId(index)]);
  }

  /** Run on workers `w0 … w(count-1)` from now on; `workerAt(i)` finds the actor of a new worker `wi`. */
  resize(count: number, workerAt: (index: number) => WorkerRef): void {
    const added: WorkerSlot[] = [];
    for (let i = 0; i < count; i++) {
      const slot = this.#slots.get(i);
      if (slot !== undefined) slot.retiring = false;
      else added.push(this.#add(i, workerAt(i)));
    }
    this.#idle.push(...added.reverse());
    const left: string[] = [];
    for (const [index, slot] of this.#slots) {
      if (index < count) continue;
      const idle = this.#idle.indexOf(slot);
      if (idle < 0) {
        slot.retiring = true;
        continue;
      }
      this.#idle.splice(idle, 1);
      this.#remove(index, slot);
      left.push(workerId(index));
    }
    if (left.length > 0) this.#retired(left);
  }

  #add(index: number, worker: WorkerRef): WorkerSlot {
    const slot = new WorkerSlot(worker);
    this.#slots.set(index, slot);
    this.#indexes.set(slot, index);
    return slot;
  }

  #remove(index: number, slot: WorkerSlot): void {
    this.#slots.delete(index);
    this.#indexes.delete(slot);
  }
}
