import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../clock.js';
import type { RetryScheduler } from '../retry-scheduler.js';
import type { StreamEntry } from '../stream-storage.js';
import type { RedisClient } from './redis-blocking-reads.js';
import { closeConnection, connectFromUrl, ownConnectionOptions } from './redis-connections.js';
import { type HeldTarget, settleHeld } from './redis-retry-held.js';
import { encodeMember, type PromoteResult, promoteStep } from './redis-retry-scripts.js';
import { parseRedisUrl } from './redis-url.js';
import { retryKey } from './retry-key.js';

/** Options of `new RedisRetryScheduler(client, options)`. */
export interface RedisRetrySchedulerOptions {
  /** Look for due messages at least this often, ms (sooner when one is due sooner). @default 1000 */
  pollIntervalMs?: number;
  /** Most messages re-added per script call (the promoter loops while a batch is full). @default 100 */
  batch?: number;
  /**
   * The sorted set of a stream's retries; must hash to the stream's Cluster slot.
   * @default retryKey: `{orders}:retry` for `orders`, `orders:{7}:retry` for `orders:{7}`
   */
  key?: (stream: string) => string;
  /** Source of time for due dates and the promoter's timer. @default systemClock */
  clock?: Clock;
  /**
   * The dead-letter stream of a stream's retries that Redis refuses to re-add (see `promote`).
   * @default `${stream}:dead`
   */
  deadLetter?: (stream: string) => string;
  /** Where promoter trouble is logged (`warn`, `debug`; `error` when it has one). @default none */
  logger?: Pick<Logger, 'warn' | 'debug'> & Partial<Pick<Logger, 'error'>>;
}

/** Options of `RedisRetryScheduler.fromUrl(url, options)`. */
export interface RedisRetrySchedulerUrlOptions extends RedisRetrySchedulerOptions {
  /** Timeout of each command, ms. @default 5000 */
  commandTimeoutMs?: number;
  /** Extra ioredis options (e.g. `tls`). */
  redis?: RedisOptions;
}

/** Shortest wait between two promoter runs, ms. */
const MIN_WAIT_MS = 1;
const QUIT_TIMEOUT_MS = 500;

/**
 * A durable `RetryScheduler` on Redis: `schedule` adds the message to a sorted set beside its stream
 * (score: due time, ms since epoch); a promoter in every runtime that uses the scheduler moves due
 * messages back to the stream with one Lua script (ZRANGEBYSCORE + XADD + ZREM, atomic), so any number
 * of processes can promote the same set and each message comes back once. Scheduled messages survive
 * restarts: the next runtime started with a scheduler on the same Redis re-delivers them.
 *
 * Keys (Cluster-safe): the set shares its stream's hash slot, `{orders}:retry` for `orders` and
 * `orders:{7}:retry` for `orders:{7}` (see `retryKey`). Members are JSON `{"id", "f": [field, value…]}`;
 * the fields carry `x-retry-attempt` (set by the runtime). A client you pass in (any ioredis 5 or 6
 * `Redis` or `Cluster`, RESP2 or RESP3) stays open on `close()`; `fromUrl` owns its connection.
 *
 * @example
 * const retryScheduler = RedisRetryScheduler.fromUrl('redis://127.0.0.1:6379')
 * const runtime = createRuntime({ storage, router, retryScheduler,
 *   consumers: [{ stream: 'orders', group: 'billing', retry: { attempts: 3, scheduled: { attempts: 5 } } }] })
 */
export class RedisRetryScheduler implements RetryScheduler {
  readonly #client: RedisClient;
  readonly #clock: Clock;
  readonly #pollIntervalMs: number;
  readonly #batch: number;
  readonly #key: (stream: string) => string;
  readonly #deadLetter: (stream: string) => string;
  readonly #logger: RedisRetrySchedulerOptions['logger'];
  /** A connection of its own for WATCH, opened at the first entry too wide for the script. */
  #watcher: RedisClient | null = null;
  readonly #streams = new Set<string>();
  #ownsClient = false;
  #timer: unknown = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #running: Promise<void> | null = null;
  /** Earliest wake asked for while a run was in progress. */
  #wakeRequest = Number.POSITIVE_INFINITY;
  readonly #reportedForeign = new Set<string>();
  #closing: Promise<void> | null = null;

  /** @throws TypeError when `client` is not an ioredis client or an option is invalid. */
  constructor(client: RedisClient, options: RedisRetrySchedulerOptions = {}) {
    if (typeof client !== 'object' || client === null || typeof client.call !== 'function') {
      throw new TypeError('Expected `client` to be an ioredis Redis or Cluster instance');
    }
    this.#pollIntervalMs = integer('pollIntervalMs', options.pollIntervalMs, 1000);
    this.#batch = integer('batch', options.batch, 100);
    if (options.key !== undefined && typeof options.key !== 'function') {
      throw new TypeError('Expected `key` to be a function (stream) => string');
    }
    if (options.deadLetter !== undefined && typeof options.deadLetter !== 'function') {
      throw new TypeError('Expected `deadLetter` to be a function (stream) => string');
    }
    this.#client = client;
    this.#clock = options.clock ?? systemClock;
    this.#key = options.key ?? retryKey;
    this.#deadLetter = options.deadLetter ?? ((stream) => `${stream}:dead`);
    this.#logger = options.logger;
  }

  /** Connect to `redis://…`, `rediss://…` or `redis+cluster://…` (as `RedisStreamStorage.fromUrl`). */
  static fromUrl(url: string, options: RedisRetrySchedulerUrlOptions = {}): RedisRetryScheduler {
    const timeout = integer('commandTimeoutMs', options.commandTimeoutMs, 5000);
    const client = connectFromUrl(parseRedisUrl(url), ownConnectionOptions(timeout), options.redis ?? {});
    client.on('error', () => {}); // reported by the commands that fail; keeps ioredis from printing
    let scheduler: RedisRetryScheduler;
    try {
      scheduler = new RedisRetryScheduler(client, options);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    scheduler.#ownsClient = true;
    return scheduler;
  }

  /** The sorted set holding `stream`'s scheduled retries. */
  keyOf(stream: string): string {
    return this.#key(stream);
  }

  async schedule(stream: string, entry: StreamEntry, delayMs: number): Promise<void> {
    if (this.#closing) throw new Error('This RedisRetryScheduler was closed');
    if (typeof delayMs !== 'number' || !(delayMs >= 0)) {
      throw new TypeError(`Expected \`delayMs\` to be a number ≥ 0, got ${String(delayMs)}`);
    }
    const dueAt = this.#clock.now() + Math.round(delayMs);
    await this.#client.call('ZADD', this.#key(stream), dueAt, encodeMember(entry.id, entry.fields));
    if (this.#streams.has(stream)) this.#wakeAt(dueAt);
  }

  /** Begin promoting the due messages of `streams` (idempotent; streams add up). */
  start(streams: readonly string[]): void {
    if (this.#closing) return;
    for (const stream of streams) {
      this.#key(stream); // a name no key can serve fails here, at start
      this.#streams.add(stream);
    }
    this.#wakeAt(this.#clock.now());
  }

  /**
   * Re-add every due message of `stream` now (the promoter calls this; so may tools). Entries too
   * wide for the script are re-added in a WATCH/MULTI transaction of their own; an entry Redis
   * refuses to re-add goes to the dead-letter stream (reason `handler-error`, the refusal in
   * `x-dead-error`), logged at `error`; refusals that pass (OOM, LOADING…) leave it for the next poll.
   * None of them keeps the messages behind it in the set.
   */
  async promote(stream: string): Promise<PromoteResult> {
    const retryKey = this.#key(stream);
    const now = this.#clock.now();
    const target: HeldTarget = {
      client: this.#client,
      watcher: () => this.#watchConnection(),
      retryKey,
      stream,
      deadStream: this.#deadLetter(stream),
      now,
    };
    const result: PromoteResult = { promoted: 0, foreign: 0, nextDueAt: null };
    let offset = 0; // due members left in place so far: the next step looks past them
    for (;;) {
      const step = await promoteStep(this.#client, retryKey, stream, now, this.#batch, offset);
      result.promoted += step.promoted;
      result.foreign += step.foreign;
      result.nextDueAt = step.nextDueAt;
      offset += step.foreign;
      for (const { member, error } of step.held) {
        const outcome = await settleHeld(target, member, error);
        if (outcome.kind === 'promoted') result.promoted++;
        else if (outcome.kind === 'dead-lettered') {
          result.deadLettered = (result.deadLettered ?? 0) + 1;
          this.#logger?.error?.(
            { stream, key: retryKey, deadStream: target.deadStream, deadLetterId: outcome.id },
            `${outcome.error}; moved to the dead-letter stream`,
          );
        } else {
          offset++;
          if (outcome.kind === 'transient') {
            this.#logger?.warn(
              { stream, key: retryKey },
              `scheduled retry not re-added yet: ${outcome.error}`,
            );
          }
        }
      }
      if (step.scanned < this.#batch) return result;
    }
  }

  /** Stop the promoter; close the connection when `fromUrl` made it. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#clearTimer();
      await this.#running?.catch(() => undefined);
      if (this.#watcher !== null) await closeConnection(this.#watcher, QUIT_TIMEOUT_MS);
      if (this.#ownsClient) await closeConnection(this.#client, QUIT_TIMEOUT_MS);
    })();
    return this.#closing;
  }

  #wakeAt(at: number): void {
    if (this.#closing) return;
    if (this.#running) {
      this.#wakeRequest = Math.min(this.#wakeRequest, at);
      return;
    }
    if (at >= this.#timerAt) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = null;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#running = this.#tick().then((nextAt) => {
          this.#running = null;
          const wake = Math.min(nextAt, this.#wakeRequest);
          this.#wakeRequest = Number.POSITIVE_INFINITY;
          this.#wakeAt(Math.max(wake, this.#clock.now() + MIN_WAIT_MS));
        });
      },
      Math.max(0, at - this.#clock.now()),
    );
  }

  /** Promote every stream's due messages; resolves when to look again. Never rejects. */
  async #tick(): Promise<number> {
    let nextAt = this.#clock.now() + this.#pollIntervalMs;
    for (const stream of this.#streams) {
      if (this.#closing) break;
      try {
        const result = await this.promote(stream);
        if (result.foreign > 0 && !this.#reportedForeign.has(stream)) {
          this.#reportedForeign.add(stream);
          this.#logger?.warn(
            { stream, key: this.#key(stream), count: result.foreign },
            'due members of the retry set are not scheduler messages; left in place',
          );
        }
        if (result.nextDueAt !== null) nextAt = Math.min(nextAt, result.nextDueAt);
      } catch (error) {
        this.#logger?.warn({ stream, err: error }, 'could not promote scheduled retries; trying again later');
      }
    }
    return nextAt;
  }

  #watchConnection(): RedisClient {
    if (this.#watcher === null) {
      this.#watcher = this.#client.duplicate();
      this.#watcher.on('error', () => {}); // reported by the commands that fail
    }
    return this.#watcher;
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }
}

function integer(what: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`Expected \`${what}\` to be an integer ≥ 1, got ${String(value)}`);
  }
  return value;
}
