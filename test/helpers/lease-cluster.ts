import { pino } from 'pino';
import { ConnectionError } from '../../src/errors/connection-error.js';
import { createRuntime, type Runtime, type RuntimeEvent } from '../../src/index.js';
import { Router } from '../../src/routing/router.js';
import type { LeaseStore } from '../../src/storage/lease-store.js';
import { MemoryStreamStorage } from '../../src/storage/memory/memory-stream-storage.js';
import type { StreamStorage } from '../../src/storage/stream-storage.js';
import { TestClock } from '../../src/testing/test-clock.js';
import { TimeDriver } from '../../src/testing/time-driver.js';
import { PARTITION_KEY_FIELD } from '../../src/wire/headers.js';
import { partitionStreams } from '../../src/wire/partitions.js';
import { publish } from '../../src/wire/publish.js';

/** Several runtimes in one process sharing partitions by lease, on one memory storage and clock. */
export interface ClusterOptions {
  partitions: number;
  leaseTtlMs: number;
  /** `false`: the same consumers without `assignment: 'leased'` (every runtime reads every partition). */
  leased?: boolean;
  /** Does the first attempt of message `seq` of `key` fail? */
  failsFirst?: (key: string, seq: number) => boolean;
  /** How long the handler of message `seq` takes, simulated ms. */
  handlerMs?: (key: string, seq: number) => number;
}

/** One runtime of the cluster; `cut` makes every storage call fail (a crash or a network split). */
export interface Member {
  name: string;
  runtime: Runtime;
  cut: boolean;
  stopped: boolean;
  events: RuntimeEvent[];
}

export const STREAM = 'orders';
export const GROUP = 'billing';

export class LeaseCluster {
  readonly clock = new TestClock();
  readonly storage = new MemoryStreamStorage({ clock: this.clock });
  readonly members: Member[] = [];
  /** Ids handled at least once, and per key the highest seq handled for the first time so far. */
  readonly firstHandled = new Set<string>();
  readonly latest = new Map<string, number>();
  readonly violations: string[] = [];
  readonly published: { id: string; key: string; seq: number }[] = [];
  readonly driver: TimeDriver;
  readonly #options: ClusterOptions;
  #activity = 0;
  #seqs = new Map<string, number>();
  #router = new Router();

  constructor(options: ClusterOptions) {
    this.#options = options;
    this.driver = new TimeDriver(this.clock, () => this.#activity);
    this.#router.on('step', async (message, ctx) => {
      const { key, seq } = message.payload as { key: string; seq: number };
      // Partitions are streams of their own: ids repeat across them.
      const at = `${message.stream}/${message.id}`;
      if (!this.firstHandled.has(at)) {
        this.firstHandled.add(at);
        const before = this.latest.get(key) ?? -1;
        if (seq < before) this.violations.push(`${key}#${seq} handled first after ${key}#${before}`);
        this.latest.set(key, Math.max(before, seq));
      }
      const ms = options.handlerMs?.(key, seq) ?? 10;
      await new Promise((resolve) => this.clock.setTimeout(resolve, ms));
      if (ctx.attempt === 1 && options.failsFirst?.(key, seq)) throw new Error(`first attempt of ${seq}`);
    });
  }

  join(name: string): Member {
    const member: Member = {
      name,
      runtime: undefined as unknown as Runtime,
      cut: false,
      stopped: false,
      events: [],
    };
    const runtime = createRuntime({
      storage: this.#proxy(member),
      clock: this.clock,
      router: this.#router,
      logger: pino({ level: 'silent' }),
      closeStorage: false,
      random: () => 0.5,
      consumers: [
        {
          stream: STREAM,
          group: GROUP,
          consumer: name,
          partitions: this.#options.partitions,
          ...(this.#options.leased === false
            ? {}
            : { assignment: 'leased' as const, leaseTtlMs: this.#options.leaseTtlMs }),
          concurrency: 4,
          orderingKey: (message) => message.fields[PARTITION_KEY_FIELD],
          retry: { attempts: 3, backoff: { initialMs: 20, maxMs: 40 } },
          claim: { minIdleMs: 5_000, intervalMs: 5_000 },
        },
      ],
    });
    member.runtime = runtime;
    runtime.subscribe((event) => {
      this.#activity++;
      member.events.push(event);
    });
    this.members.push(member);
    void runtime.start().catch(() => undefined);
    return member;
  }

  /** Publish `count` messages over `keys` keys, each key's in sequence. */
  async publish(count: number, keys: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const key = `k${i % keys}`;
      const seq = this.#seqs.get(key) ?? 0;
      this.#seqs.set(key, seq + 1);
      const { id } = await publish(
        this.storage,
        STREAM,
        'step',
        { key, seq },
        { key, partitions: this.#options.partitions },
      );
      this.published.push({ id, key, seq });
    }
  }

  /** Stop a member: gracefully (its leases are released), or after it was cut (a crash). */
  async stop(member: Member): Promise<void> {
    member.stopped = true;
    await this.driver.drive(member.runtime.stop({ timeoutMs: 2_000 }), { maxMs: 30_000 });
  }

  /** Every partition's owners among the members' own views: the members holding it. */
  holders(): string[][] {
    const holders: string[][] = Array.from({ length: this.#options.partitions }, () => []);
    for (const member of this.members) {
      if (member.stopped) continue;
      for (const p of member.runtime.snapshot().partitions ?? [])
        if (p.mine) holders[p.partition]?.push(member.name);
    }
    return holders;
  }

  async pendingCount(): Promise<number> {
    let pending = 0;
    for (const stream of partitionStreams(STREAM, this.#options.partitions)) {
      const groups = await this.storage.groups(stream);
      pending += groups.find((g) => g.name === GROUP)?.pending ?? 0;
    }
    return pending;
  }

  #proxy(member: Member): StreamStorage {
    const bump = () => this.#activity++;
    const guard = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, property) {
          const value: unknown = Reflect.get(object, property);
          if (property === 'leases' && value !== undefined) return guard(value as LeaseStore);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            bump();
            if (member.cut && property !== 'close') return Promise.reject(new ConnectionError('cut off'));
            return (value as (...a: unknown[]) => unknown).apply(object, args);
          };
        },
      });
    return guard(this.storage);
  }
}
