import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { LeaseStore } from '../../storage/lease-store.js';
import { leaseKey, membersKey } from '../../wire/lease-keys.js';
import { partitionStream } from '../../wire/partitions.js';
import { PartitionLease } from '../partition-lease.js';
import type { EventBus } from '../runtime-events.js';
import { fairShare } from './fair-share.js';

/** What one leased consumer entry (`partitions: N, assignment: 'leased'`) needs to lease its partitions. */
export interface LeaseManagerOptions {
  store: LeaseStore;
  clock: Clock;
  logger: Logger;
  bus: EventBus;
  /** The logical stream, its group and partition count, as the consumer option gives them. */
  stream: string;
  group: string;
  partitions: number;
  ttlMs: number;
  /** This runtime's owner token, unique to it (`<consumer name>/<random>`). */
  token: string;
  /** The consumer id of each partition, for events. */
  consumerIds: readonly string[];
}

/** A partition's owner as this runtime last saw it. */
export interface PartitionOwner {
  partition: number;
  stream: string;
  /** The owner's token, `null` when free (or not known yet). */
  owner: string | null;
}

/**
 * Leases one consumer entry's partitions for this runtime. Every `ttlMs / 3` (a tick) it announces
 * the runtime as a member, renews the leases it holds, reads every partition's owner, and balances:
 * it takes free partitions up to its fair share (about N / members, see fair-share.ts) and hands
 * extras over (fenced at once, released once their in-flight messages are done). A lease not renewed
 * by `readableUntil` (its TTL minus a margin, counted from when the renewal was sent) is treated as
 * lost: the partition is fenced before Redis can give it to anyone else. `stop()` releases every lease
 * and leaves the member set, so the others take over at once.
 */
export class LeaseManager {
  readonly leases: readonly PartitionLease[];
  readonly #o: LeaseManagerOptions;
  readonly #membersKey: string;
  readonly #fences = new Map<number, unknown>();
  #owners: (string | null)[];
  #timer: unknown = null;
  #tick: Promise<void> | null = null;
  #stopped = false;

  constructor(options: LeaseManagerOptions) {
    this.#o = options;
    this.#membersKey = membersKey(options.stream, options.group);
    this.leases = Array.from(
      { length: options.partitions },
      (_, i) => new PartitionLease(leaseKey(options.stream, options.group, i), i),
    );
    this.#owners = this.leases.map(() => null);
  }

  get token(): string {
    return this.#o.token;
  }

  /** Each partition's owner: this runtime's own leases as it holds them, the others as last read. */
  owners(): PartitionOwner[] {
    return this.leases.map((lease, i) => ({
      partition: i,
      stream: partitionStream(this.#o.stream, i),
      owner: lease.owned
        ? this.#o.token
        : this.#owners[i] === this.#o.token
          ? null
          : (this.#owners[i] ?? null),
    }));
  }

  start(): void {
    if (this.#stopped || this.#timer !== null) return;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      this.#tick = this.#run().finally(() => {
        this.#tick = null;
        if (!this.#stopped) this.#schedule(Math.max(1, Math.floor(this.#o.ttlMs / 3)));
      });
    }, ms);
  }

  async #run(): Promise<void> {
    const { store, clock, ttlMs, token, partitions } = this.#o;
    try {
      const members = await store.announce(this.#membersKey, token, ttlMs);
      await Promise.all(this.leases.filter((l) => l.owned).map((lease) => this.#renew(lease)));
      this.#owners = await store.owners(this.leases.map((l) => l.key));
      for (const lease of this.leases) {
        // Someone else holds it in Redis: this runtime lost it (its renewal came too late).
        if (lease.owned && this.#owners[lease.partition] !== token) this.#lose(lease);
      }
      if (this.#stopped) return;
      await this.#handOver();
      const target = fairShare(members, token, partitions);
      const kept = this.leases.filter((l) => l.readable);
      // Extras go from the highest partition down, so a balanced assignment stays put.
      for (const lease of kept.slice(target).reverse()) lease.startRelease();
      let held = this.leases.filter((l) => l.owned).length;
      const offset = Math.max(0, members.indexOf(token)) * Math.floor(partitions / members.length);
      for (let k = 0; k < partitions && held < target && !this.#stopped; k++) {
        const lease = this.leases[(offset + k) % partitions] as PartitionLease;
        if (lease.owned || this.#owners[lease.partition] !== null) continue;
        const sentAt = clock.now();
        if (await store.acquire(lease.key, token, ttlMs)) {
          held++;
          this.#owners[lease.partition] = token;
          this.#grant(lease, sentAt);
          this.#emit(lease, 'acquired');
        }
      }
    } catch (error) {
      // Redis unreachable: leases not renewed are fenced by their own timers; try again next tick.
      this.#o.logger.warn({ err: error, stream: this.#o.stream }, 'partition lease tick failed');
    }
  }

  async #renew(lease: PartitionLease): Promise<void> {
    const sentAt = this.#o.clock.now();
    if (await this.#o.store.renew(lease.key, this.#o.token, this.#o.ttlMs)) this.#grant(lease, sentAt);
    else this.#lose(lease);
  }

  /** Release the leases being handed over whose partition has nothing in flight any more. */
  async #handOver(): Promise<void> {
    const done = this.leases.filter((l) => l.releasing && l.busy === 0);
    await Promise.all(done.map((lease) => this.#release(lease)));
  }

  async #release(lease: PartitionLease): Promise<void> {
    this.#disarm(lease);
    lease.revoke();
    this.#owners[lease.partition] = null;
    this.#emit(lease, 'released');
    await this.#o.store.release(lease.key, this.#o.token);
  }

  #grant(lease: PartitionLease, sentAt: number): void {
    const { ttlMs, clock } = this.#o;
    // Redis counts the TTL from when it ran the command, after `sentAt`: expiring locally a margin
    // before `sentAt + ttlMs` fences the partition before anyone else can take it.
    const readableUntil = sentAt + ttlMs - Math.max(100, Math.floor(ttlMs / 10));
    lease.grant(readableUntil);
    this.#disarm(lease);
    const timer = clock.setTimeout(
      () => {
        this.#fences.delete(lease.partition);
        if (lease.owned && lease.readableUntil <= clock.now()) this.#lose(lease);
      },
      Math.max(1, readableUntil - clock.now()),
    );
    this.#fences.set(lease.partition, timer);
  }

  #lose(lease: PartitionLease): void {
    if (!lease.owned) return;
    this.#disarm(lease);
    lease.revoke();
    this.#o.logger.warn(
      { stream: this.#o.stream, partition: lease.partition },
      'partition lease lost; the partition is fenced (its pending entries go to the next owner)',
    );
    this.#emit(lease, 'lost');
  }

  #disarm(lease: PartitionLease): void {
    const timer = this.#fences.get(lease.partition);
    if (timer !== undefined) this.#o.clock.clearTimeout(timer);
    this.#fences.delete(lease.partition);
  }

  #emit(lease: PartitionLease, change: 'acquired' | 'released' | 'lost'): void {
    const { bus, clock, stream, token, consumerIds } = this.#o;
    bus.emit({
      type: 'partition.lease',
      at: clock.now(),
      consumerId: consumerIds[lease.partition] ?? '',
      stream: partitionStream(stream, lease.partition),
      partition: lease.partition,
      change,
      owner: token,
    });
  }

  /**
   * Stop ticking, release every lease this runtime holds and leave the member set (call it once the
   * partitions' consumers have drained). Failures are logged: the leases then expire on their own.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#tick;
    const held = this.leases.filter((l) => l.owned);
    const results = await Promise.allSettled([
      ...held.map((lease) => this.#release(lease)),
      this.#o.store.leave(this.#membersKey, this.#o.token),
    ]);
    for (const lease of this.leases) this.#disarm(lease);
    for (const result of results) {
      if (result.status === 'rejected')
        this.#o.logger.debug({ err: result.reason }, 'could not release a partition lease; it expires');
    }
  }
}
