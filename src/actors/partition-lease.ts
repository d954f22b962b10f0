/** What a leased partition's consumer session offers its lease. */
export interface LeaseHost {
  /** Stop starting messages of the partition and stop reading it; messages not started stay pending. */
  fence(): void;
  /** Messages held plus reads or claims in flight: 0 when the partition can be handed over. */
  readonly busy: number;
}

/**
 * This runtime's hold on one leased partition, shared by the lease manager (which takes, renews and
 * releases the lease in the storage) and the partition's consumer sessions (which read and start
 * messages only while `readable`). `epoch` counts how often the lease was (re)gained: a session that
 * sees a new epoch re-processes the partition's pending entries before it reads new ones.
 */
export class PartitionLease {
  /** The lease key (in the partition's hash slot). */
  readonly key: string;
  readonly partition: number;
  #owned = false;
  #releasing = false;
  #epoch = 0;
  #readableUntil = 0;
  #host: LeaseHost | null = null;
  #waiters: Array<() => void> = [];

  constructor(key: string, partition: number) {
    this.key = key;
    this.partition = partition;
  }

  /** This runtime holds the lease (it may be handing it over: see `releasing`). */
  get owned(): boolean {
    return this.#owned;
  }

  /** Held and not being handed over: the partition may be read and its messages started. */
  get readable(): boolean {
    return this.#owned && !this.#releasing;
  }

  get releasing(): boolean {
    return this.#releasing;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Until when (the runtime's clock, ms) reads may run: the lease's expiry as this runtime counts it,
   * minus a safety margin. A blocking read is bounded by it, so no read outlives the lease.
   */
  get readableUntil(): number {
    return this.#readableUntil;
  }

  /** Messages held and reads in flight of the session reading the partition. */
  get busy(): number {
    return this.#host?.busy ?? 0;
  }

  /** The lease was taken or renewed: readable until `readableUntil`. */
  grant(readableUntil: number): void {
    this.#readableUntil = readableUntil;
    if (!this.#owned) {
      this.#owned = true;
      this.#releasing = false;
      this.#epoch++;
    }
    this.#wake();
  }

  /** Hand the partition over: fence it now; the manager releases the lease once `busy` is 0. */
  startRelease(): void {
    if (!this.#owned || this.#releasing) return;
    this.#releasing = true;
    this.#host?.fence();
    this.#wake();
  }

  /** The lease was lost (a failed renewal, expiry) or released: fence the partition at once. */
  revoke(): void {
    const was = this.#owned;
    this.#owned = false;
    this.#releasing = false;
    this.#readableUntil = 0;
    if (was) this.#host?.fence();
    this.#wake();
  }

  /** Resolves at the next grant, revoke, release or `wake()`. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Let a waiting session go (it is stopping). */
  wake(): void {
    this.#wake();
  }

  attach(host: LeaseHost): void {
    this.#host = host;
  }

  detach(host: LeaseHost): void {
    if (this.#host === host) this.#host = null;
    this.#wake();
  }

  #wake(): void {
    if (this.#waiters.length > 0) for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
