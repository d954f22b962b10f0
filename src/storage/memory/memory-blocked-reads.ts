import type { Clock } from '../../clock.js';
import type { StreamEntry } from '../stream-storage.js';

const MAX_TIMER_MS = 2_147_483_647;

/** A `readGroup` waiting for new entries (Redis' client blocked on a stream key). */
export interface BlockedRead {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
}

interface Waiter extends BlockedRead {
  readonly resolve: (entries: StreamEntry[]) => void;
  readonly reject: (error: Error) => void;
  timer: unknown;
}

/**
 * The blocked readers of every stream key, in the order they blocked, each with a clock timer that
 * resolves `[]` when its `blockMs` runs out. Nothing stays registered once a read settled.
 *
 * @example
 * const blocked = new BlockedReads(clock)
 * const entries = blocked.wait({ stream: 's', group: 'g', consumer: 'c', count: 10 }, 5000)
 * for (const read of blocked.on('s')) blocked.settle(read, { entries: [] })
 */
export class BlockedReads {
  readonly #clock: Clock;
  readonly #byStream = new Map<string, Set<Waiter>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Block until `settle` is called with this read, or `blockMs` passes (then resolves `[]`). */
  wait(read: BlockedRead, blockMs: number): Promise<StreamEntry[]> {
    return new Promise<StreamEntry[]>((resolve, reject) => {
      const waiter: Waiter = { ...read, resolve, reject, timer: undefined };
      let waiters = this.#byStream.get(read.stream);
      if (waiters === undefined) {
        waiters = new Set();
        this.#byStream.set(read.stream, waiters);
      }
      waiters.add(waiter);
      // Node fires timers longer than 2^31 - 1 ms at once: wait in steps for such (odd) blockMs.
      const arm = (left: number): void => {
        const step = Math.min(left, MAX_TIMER_MS);
        waiter.timer = this.#clock.setTimeout(() => {
          waiter.timer = undefined;
          if (left > step) return arm(left - step);
          this.#forget(waiter);
          resolve([]);
        }, step);
      };
      arm(blockMs);
    });
  }

  /** The reads blocked on `stream`, oldest first (a snapshot: settling them is safe while iterating). */
  on(stream: string): BlockedRead[] {
    const waiters = this.#byStream.get(stream);
    return waiters === undefined ? [] : [...waiters];
  }

  /** Resolve a blocked read with entries, or reject it. */
  settle(read: BlockedRead, outcome: { entries: StreamEntry[] } | { error: Error }): void {
    const waiter = read as Waiter;
    if (!this.#forget(waiter)) return;
    if ('error' in outcome) waiter.reject(outcome.error);
    else waiter.resolve(outcome.entries);
  }

  /** Reject every blocked read (storage closed). */
  rejectAll(error: () => Error): void {
    for (const waiters of [...this.#byStream.values()]) {
      for (const waiter of [...waiters]) this.settle(waiter, { error: error() });
    }
  }

  #forget(waiter: Waiter): boolean {
    const waiters = this.#byStream.get(waiter.stream);
    if (waiters === undefined || !waiters.delete(waiter)) return false;
    if (waiters.size === 0) this.#byStream.delete(waiter.stream);
    if (waiter.timer !== undefined) {
      this.#clock.clearTimeout(waiter.timer);
      waiter.timer = undefined;
    }
    return true;
  }
}
