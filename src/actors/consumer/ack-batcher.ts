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

  /**
   * Send every queued id: one XACK per `maxBatch` ids, all in flight together (pipelined on the
   * connection). Sending only the first `maxBatch` per round trip let a consumer that handles more
   * than that per round trip (batch handlers, large reads) fall further behind on every one: handled
   * messages piled up unacked (tens of thousands in a 200,000-message drain), and slicing the pile
   * cost more with every XACK.
   */
  #send(): void {
    const max = this.#options.maxBatch ?? 1000;
    const ids = this.#queue;
    this.#queue = [];
    this.#sending = ids;
    let retry = false;
    let failure: { error: unknown } | null = null;
    const sends: Promise<void>[] = [];
    for (let from = 0; from < ids.length; from += max) {
      const chunk = ids.length <= max ? ids : ids.slice(from, from + max);
      sends.push(
        this.#options.storage.ack(this.#options.stream, this.#options.group, chunk).then(
          () => undefined,
          (error: unknown) => {
            if (isRetriable(error) && !this.#closed) {
              this.#queue = chunk.concat(this.#queue);
              retry = true;
            } else {
              failure ??= { error };
            }
          },
        ),
      );
    }
    this.#inFlight = Promise.all(sends).then(() => {
      this.#inFlight = null;
      this.#sending = [];
      if (retry) {
        this.#retryTimer = this.#options.setTimer(() => {
          this.#retryTimer = null;
          this.#kick();
        }, this.#options.retryMs);
      }
      // One report per round, however many of its XACKs failed the same way (NOGROUP, …).
      if (failure !== null) this.#options.onError(failure.error);
      if (this.#queue.length > 0 && this.#retryTimer === null && !this.#closed) this.#send();
    });
  }
}
