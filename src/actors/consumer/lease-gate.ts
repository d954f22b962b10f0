import type { LeaseHost, PartitionLease } from '../partition-lease.js';
import { type RecoveryHost, recoverPending } from './recover-pending.js';

/** What the gate needs from its consumer session. */
export interface GatedSession extends RecoveryHost {
  readonly closing: boolean;
  /** Stop starting queued messages (they stay pending): the pool's own fence. */
  fencePool(): void;
  /** Start messages again (the lease was gained anew). */
  unfencePool(): void;
}

/**
 * A leased partition's consumer session reads and starts messages only while this runtime holds the
 * partition's lease (`assignment: 'leased'`):
 * - before each read, it waits until the lease is readable; after the lease was (re)gained (a new
 *   epoch) it first re-processes the partition's pending entries in id order (its reader is named
 *   after the partition, so they are what earlier owners left), then reads new ones;
 * - a blocking read never outlives the lease: its `blockMs` ends before `readableUntil`, so whatever
 *   it takes into the PEL is there before another runtime can take the lease and walk the PEL;
 * - a read that returns after the lease was lost or handed over dispatches nothing: its entries stay
 *   pending for the next owner; losing the lease fences the pool (queued messages are dropped, stay
 *   pending; running ones finish).
 */
export class LeaseGate implements LeaseHost {
  readonly lease: PartitionLease;
  readonly #session: GatedSession;
  /** The epoch whose pending entries this session re-processed (0: none yet). */
  #epoch = 0;
  #inFlight = 0;

  constructor(lease: PartitionLease, session: GatedSession) {
    this.lease = lease;
    this.#session = session;
    lease.attach(this);
  }

  get busy(): number {
    return this.#session.held.size + this.#inFlight;
  }

  fence(): void {
    this.#session.fencePool();
  }

  /** The pending entries of the lease's current epoch were re-processed: XAUTOCLAIM may run too. */
  get settled(): boolean {
    return this.lease.readable && this.#epoch === this.lease.epoch;
  }

  /**
   * Wait until the partition may be read (not on the first read: that one reports the consumer
   * healthy at once); resolves the longest the read may block, or `null` for no read now (stopping,
   * or this is the first read and the lease is not held).
   */
  async beforeRead(first: boolean, now: () => number): Promise<number | null> {
    const lease = this.lease;
    for (;;) {
      if (this.#session.closing) return null;
      if (!lease.readable) {
        if (first) return null;
        await lease.changed();
        continue;
      }
      if (this.#epoch !== lease.epoch) {
        this.#epoch = lease.epoch;
        this.#session.unfencePool();
        await this.#reprocessPending();
        continue;
      }
      const left = lease.readableUntil - now();
      // The renewal is late: wait for it (or for the manager's fence at readableUntil).
      if (left < 1) {
        await lease.changed();
        continue;
      }
      return left;
    }
  }

  /** Count a read in flight (the partition is handed over only when none is). */
  track<T>(read: Promise<T>): Promise<T> {
    this.#inFlight++;
    return read.finally(() => this.#inFlight--);
  }

  /** After a read that started at `epoch`: may its entries be started here? */
  mayDispatch(epoch: number): boolean {
    return this.lease.readable && this.lease.epoch === epoch;
  }

  async #reprocessPending(): Promise<void> {
    const epoch = this.lease.epoch;
    const stopped = () => this.#session.closing || !this.mayDispatch(epoch);
    this.#inFlight++;
    try {
      await recoverPending(this.#session, { ownPel: true, claims: false, stopped });
    } finally {
      this.#inFlight--;
    }
  }

  dispose(): void {
    this.lease.detach(this);
  }
}
