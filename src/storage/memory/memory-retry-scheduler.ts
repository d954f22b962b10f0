import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../clock.js';
import type { RetryScheduler } from '../retry-scheduler.js';
import type { StreamEntry, StreamFields, StreamStorage } from '../stream-storage.js';

/** Options of `new MemoryRetryScheduler(options)`. */
export interface MemoryRetrySchedulerOptions {
  /** Where due messages are re-added (XADD), usually the runtime's `MemoryStreamStorage`. */
  storage: StreamStorage;
  /** Source of time for the delays; pass the same `SimulatedClock` as the runtime in tests. @default systemClock */
  clock?: Clock;
  /** After a failed re-add (e.g. the storage is closed), try again this much later, ms. @default 1000 */
  retryMs?: number;
  /** Where a failed re-add is logged (`warn`). @default none */
  logger?: Pick<Logger, 'warn'>;
}

interface Waiting {
  readonly key: string;
  readonly stream: string;
  readonly fields: StreamFields;
  dueAt: number;
  timer: unknown;
}

/**
 * A `RetryScheduler` in process: one timer per waiting message on the given clock, which re-adds the
 * message's fields to its stream when due. For `MemoryStreamStorage` and tests: nothing survives the
 * process, and `close()` drops what is still waiting. Use `RedisRetryScheduler` with Redis.
 *
 * @example
 * const clock = new SimulatedClock()
 * const storage = new MemoryStreamStorage({ clock })
 * const runtime = createRuntime({ storage, clock, router, consumers,
 *   retryScheduler: new MemoryRetryScheduler({ storage, clock }) })
 */
export class MemoryRetryScheduler implements RetryScheduler {
  readonly #storage: StreamStorage;
  readonly #clock: Clock;
  readonly #retryMs: number;
  readonly #logger: Pick<Logger, 'warn'> | undefined;
  readonly #waiting = new Map<string, Waiting>();
  #closed = false;

  constructor(options: MemoryRetrySchedulerOptions) {
    if (typeof options?.storage?.add !== 'function') {
      throw new TypeError('Expected `storage` to be a StreamStorage, e.g. new MemoryStreamStorage()');
    }
    const retryMs = options.retryMs ?? 1000;
    if (!Number.isSafeInteger(retryMs) || retryMs < 1) {
      throw new TypeError(`Expected \`retryMs\` to be an integer ≥ 1, got ${String(retryMs)}`);
    }
    this.#storage = options.storage;
    this.#clock = options.clock ?? systemClock;
    this.#retryMs = retryMs;
    this.#logger = options.logger;
  }

  /** Messages waiting to be re-added. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Due times (ms since epoch) of the waiting messages of `stream`, earliest first. */
  dueTimes(stream: string): number[] {
    return [...this.#waiting.values()]
      .filter((w) => w.stream === stream)
      .map((w) => w.dueAt)
      .sort((a, b) => a - b);
  }

  async schedule(stream: string, entry: StreamEntry, delayMs: number): Promise<void> {
    if (this.#closed) throw new Error('This MemoryRetryScheduler was closed');
    if (typeof delayMs !== 'number' || !(delayMs >= 0)) {
      throw new TypeError(`Expected \`delayMs\` to be a number ≥ 0, got ${String(delayMs)}`);
    }
    // The same entry scheduled twice (a crash between schedule and ack) is re-delivered once.
    const key = `${stream}\u0000${JSON.stringify([entry.id, entry.fields])}`;
    const known = this.#waiting.get(key);
    if (known !== undefined) this.#clock.clearTimeout(known.timer);
    const waiting: Waiting = { key, stream, fields: { ...entry.fields }, dueAt: 0, timer: null };
    this.#waiting.set(key, waiting);
    this.#arm(waiting, delayMs);
  }

  /** Clear every timer; messages still waiting are dropped (they lived in this process only). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiting of this.#waiting.values()) this.#clock.clearTimeout(waiting.timer);
    this.#waiting.clear();
  }

  #arm(waiting: Waiting, delayMs: number): void {
    waiting.dueAt = this.#clock.now() + delayMs;
    waiting.timer = this.#clock.setTimeout(() => this.#promote(waiting), delayMs);
  }

  #promote(waiting: Waiting): void {
    if (this.#waiting.get(waiting.key) !== waiting) return;
    this.#storage.add(waiting.stream, waiting.fields).then(
      () => {
        if (this.#waiting.get(waiting.key) === waiting) this.#waiting.delete(waiting.key);
      },
      (error: unknown) => {
        if (this.#closed || this.#waiting.get(waiting.key) !== waiting) return;
        this.#logger?.warn(
          { stream: waiting.stream, err: error },
          'could not re-add a scheduled retry; trying again',
        );
        this.#arm(waiting, this.#retryMs);
      },
    );
  }
}
