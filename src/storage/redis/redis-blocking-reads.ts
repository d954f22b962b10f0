import { ConnectionError } from '../../errors/connection-error.js';
import { StorageClosedError } from '../../errors/storage-closed-error.js';
import type { RedisClient } from './redis-client.js';

export type { RedisClient } from './redis-client.js';

interface Slot {
  connection: RedisClient | null;
  /** Settles when the reads queued so far on this consumer have settled; reads run one at a time. */
  tail: Promise<void>;
  /** Fails the read in flight (on close). */
  abort: ((error: Error) => void) | null;
}

const noop = (): void => {};

/**
 * Blocking XREADGROUP calls, each consumer name on its own dedicated connection (so a blocked read
 * never delays other commands), created lazily and reused. A watchdog bounds every read at
 * `blockMs + marginMs`: ioredis re-sends or loses commands across reconnects, and a paused or
 * half-open server never answers, so on expiry the connection is dropped (the next read opens a new
 * one) and the read rejects with `ConnectionError` code `READ_TIMEOUT`.
 *
 * @example
 * const reads = new BlockingReads((consumer) => client.duplicate({ autoResendUnfulfilledCommands: false }), 1000)
 * const reply = await reads.read('bot-1', 5000, ['GROUP', 'bot', 'bot-1', 'COUNT', 10, 'BLOCK', 5000, 'STREAMS', 'events', '>'])
 */
export class BlockingReads {
  readonly #connect: (consumer: string) => RedisClient;
  readonly #marginMs: number;
  readonly #slots = new Map<string, Slot>();
  #closed = false;

  constructor(connect: (consumer: string) => RedisClient, marginMs: number) {
    this.#connect = connect;
    this.#marginMs = marginMs;
  }

  /** Run `XREADGROUP ...args` for `consumer`; resolves the raw reply. */
  read(consumer: string, blockMs: number, args: readonly (string | number)[]): Promise<unknown> {
    let slot = this.#slots.get(consumer);
    if (slot === undefined) {
      slot = { connection: null, tail: Promise.resolve(), abort: null };
      this.#slots.set(consumer, slot);
    }
    const current = slot;
    const result = current.tail.then(() => this.#issue(consumer, current, blockMs, args));
    current.tail = result.then(noop, noop);
    return result;
  }

  #issue(
    consumer: string,
    slot: Slot,
    blockMs: number,
    args: readonly (string | number)[],
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(new StorageClosedError('readGroup'));
    let connection = slot.connection;
    if (connection === null) {
      connection = this.#connect(consumer);
      slot.connection = connection;
    }
    const used = connection;
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | null, reply?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        used.off('close', onClose);
        slot.abort = null;
        if (error === null) resolve(reply);
        else reject(error);
      };
      const timer = setTimeout(() => {
        const limit = blockMs + this.#marginMs;
        finish(
          new ConnectionError(
            `Blocking XREADGROUP for consumer "${consumer}" did not settle within ${limit} ms (block ${blockMs} ms + watchdog margin ${this.#marginMs} ms); dropped its connection, the next read opens a new one`,
            { code: 'READ_TIMEOUT' },
          ),
        );
        this.#drop(slot, used);
      }, blockMs + this.#marginMs);
      // A connection killed under a blocked read (CLIENT KILL, a restart) would otherwise leave the
      // read waiting for the watchdog: fail it at once, so the consumer backs off and reconnects now.
      const onClose = (): void => {
        finish(new ConnectionError(`The connection of consumer "${consumer}" closed during a blocking read`));
        this.#drop(slot, used);
      };
      used.once('close', onClose);
      slot.abort = (error) => finish(error);
      used.call('XREADGROUP', ...args).then(
        (reply) => finish(null, reply),
        (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  #drop(slot: Slot, connection: RedisClient): void {
    if (slot.connection === connection) slot.connection = null;
    connection.disconnect();
  }

  /** Reject reads in flight and queued with `StorageClosedError`, and disconnect every reader connection. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots.values()) {
      slot.abort?.(new StorageClosedError('readGroup'));
      if (slot.connection !== null) this.#drop(slot, slot.connection);
    }
    this.#slots.clear();
  }
}
