import type { Logger } from 'pino';
import type { ConsumerDeps } from '../actors/consumer-deps.js';
import { LeaseManager } from '../actors/lease/lease-manager.js';
import type { EventBus } from '../actors/runtime-events.js';
import type { Clock } from '../clock.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import type { ResolvedConsumer } from './runtime-options.js';

/** One leased partition in `runtime.snapshot().partitions`. */
export interface PartitionSnapshot {
  /** The consumer of this runtime that reads the partition while it owns it. */
  consumerId: string;
  /** The partition's stream, e.g. `orders:{3}`. */
  stream: string;
  group: string;
  partition: number;
  /** The owner runtime's token (`<consumer name>/<random>`); `null` while free (or not known yet). */
  owner: string | null;
  /** This runtime owns it. */
  mine: boolean;
}

/**
 * The lease managers of a runtime's leased consumers (`assignment: 'leased'`): one per consumer entry
 * (logical stream and group), each handing its partitions' consumers their `PartitionLease`.
 *
 * @example
 * const leases = RuntimeLeases.create(consumers, deps, { storage, clock, logger, bus, random })
 * leases?.start()
 */
interface Managed {
  manager: LeaseManager;
  group: string;
  ids: string[];
}

export class RuntimeLeases {
  readonly #managers: Managed[];

  private constructor(managers: Managed[]) {
    this.#managers = managers;
  }

  /** `null` when no consumer is leased. Throws a TypeError when the storage has no leases. */
  static create(
    consumers: readonly ResolvedConsumer[],
    deps: ReadonlyMap<string, ConsumerDeps>,
    shared: { storage: StreamStorage; clock: Clock; logger: Logger; bus: EventBus; random: () => number },
  ): RuntimeLeases | null {
    const groups = new Map<string, ResolvedConsumer[]>();
    for (const spec of consumers) {
      if (spec.lease === undefined) continue;
      const key = JSON.stringify([spec.lease.stream, spec.group, spec.lease.owner]);
      groups.set(key, [...(groups.get(key) ?? []), spec]);
    }
    if (groups.size === 0) return null;
    const store = shared.storage.leases;
    if (store === undefined) {
      throw new TypeError(
        "Expected `storage` to have `leases` for consumers with `assignment: 'leased'` (RedisStreamStorage and MemoryStreamStorage have them)",
      );
    }
    const managers = [...groups.values()].map((specs) => {
      const first = specs[0] as ResolvedConsumer & { lease: NonNullable<ResolvedConsumer['lease']> };
      const suffix = Math.floor(shared.random() * 0xffffffff)
        .toString(16)
        .padStart(8, '0');
      const manager = new LeaseManager({
        store,
        clock: shared.clock,
        logger: shared.logger,
        bus: shared.bus,
        stream: first.lease.stream,
        group: first.group,
        partitions: first.lease.partitions,
        ttlMs: first.lease.ttlMs,
        token: `${first.lease.owner}/${suffix}`,
        consumerIds: specs.map((spec) => spec.id),
      });
      for (const spec of specs) {
        const partitionDeps = deps.get(spec.id);
        const lease = manager.leases[spec.lease?.partition ?? 0];
        if (partitionDeps !== undefined && lease !== undefined) partitionDeps.lease = lease;
      }
      return { manager, group: first.group, ids: specs.map((spec) => spec.id) };
    });
    return new RuntimeLeases(managers);
  }

  start(): void {
    for (const { manager } of this.#managers) manager.start();
  }

  /** Release every lease and leave the member sets (after the consumers drained). */
  async stop(): Promise<void> {
    await Promise.all(this.#managers.map(({ manager }) => manager.stop()));
  }

  /** Every leased partition with its owner, as this runtime knows it. */
  partitions(): PartitionSnapshot[] {
    return this.#managers.flatMap(({ manager, group, ids }) =>
      manager.owners().map((owner) => ({
        consumerId: ids[owner.partition] ?? '',
        stream: owner.stream,
        group,
        partition: owner.partition,
        owner: owner.owner,
        mine: owner.owner === manager.token,
      })),
    );
  }
}
