import { isRetriable } from '../../machines/classify-error.js';
import type { StreamStorage } from '../../storage/stream-storage.js';

export interface AckBatcherOptions {
  storage: StreamStorage;
  stream: string;
  group: string;
  /** Called when an XACK fails for a reason other than the connection (NOGROUP, WRONGTYPE, …). */
  onError: (error: unknown) => void;
  /** Most ids per XACK. @default 1000 */
  maxBatch?: number;
  /** Wait before retrying after a connection error, ms. */
  retryMs: number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
}

/**
 * Batches acknowledgements: ids acked while an XACK is in flight (or within the same turn of the
 * event loop) go out together in the next one, so the number of round trips follows Redis' speed,
 * not the message rate, and no delay is added when traffic is light.
 * After a connection error the ids are kept and retried; they stay pending meanwhile (at-least-once).
 */
export class AckBatcher {
  #options: AckBatcherOptions;
  #queue: string[] = [];
  #inFlight: Promise<void> | null = null;
  /** The ids of the XACK in flight. */
  #sending: readonly string[] = [];
  #scheduled = false;
  #retryTimer: unknown = null;
  #closed = false;

  constructor(options: AckBatcherOptions) {
    this.#options = options;
  }

  /**
   * The ids handled but not yet confirmed acked (queued, or in the XACK in flight). They are still in
   * the PEL and idle, so a claim may return them: recovery must not run them again. Built on demand
   * (recovery is rare), so the per-message path pays nothing for it.
   */
  unconfirmed(): ReadonlySet<string> {
    return new Set([...this.#sending, ...this.#queue]);
  }

  add(id: string): void {
    if (this.#closed) return;
    this.#queue.push(id);
    if (!this.#scheduled && this.#inFlight === null && this.#retryTimer === null) {
      this.#scheduled = true;
      setImmediate(this.#kick);
    }
  }

  /**
   * Resolves when every queued id was sent, or after one failed try (then the ids stay pending in
   * Redis and are re-delivered later: at-least-once).
   */
  async flush(): Promise<void> {
    this.#clearRetry();
    for (;;) {
      if (this.#inFlight !== null) {
        await this.#inFlight;
        continue;
      }
      if (this.#queue.length === 0) return;
      this.#send();
      await this.#inFlight;
      if (this.#retryTimer !== null) {
        this.#clearRetry();
        return;
      }
    }
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) this.#options.clearTimer(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** Drop what is queued and stop timers. Dropped ids stay pending in Redis. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#clearRetry();
  }

  #kick = (): void => {
    this.#scheduled = false;
    if (this.#inFlight === null && this.#queue.length > 0) this.#send();
  };

  #send(): void {
    const max = this.#options.maxBatch ?? 1000;
    const ids = this.#queue.length <= max ? this.#queue : this.#queue.slice(0, max);
    this.#queue = this.#queue.length <= max ? [] : this.#queue.slice(max);
    this.#sending = ids;
    this.#inFlight = this.#options.storage
      .ack(this.#options.stream, this.#options.group, ids)
      .then(
        () => undefined,
        (error: unknown) => {
          if (isRetriable(error) && !this.#closed) {
            this.#queue = ids.concat(this.#queue);
            this.#retryTimer = this.#options.setTimer(() => {
              this.#retryTimer = null;
              this.#kick();
            }, this.#options.retryMs);
          } else {
            this.#options.onError(error);
          }
        },
      )
      .finally(() => {
        this.#inFlight = null;
        this.#sending = [];
        if (this.#queue.length > 0 && this.#retryTimer === null && !this.#closed) this.#send();
      });
  }
}
