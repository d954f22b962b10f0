/** Weight of a new sample in the moving averages. */
const ALPHA = 0.2;
/** Most entries read ahead of the workers (adaptive mode). */
export const MAX_READ_AHEAD = 2048;
/**
 * Round trips of work held ahead of the workers (adaptive mode). The next read goes out when half the
 * read-ahead was taken (consumer-io.ts), so with two round trips of read-ahead one full round
 * trip of queued work remains while that read is in flight: the workers do not run empty when a
 * round trip takes longer than its average (a loaded box), which one round trip of read-ahead let happen.
 */
const READ_AHEAD_ROUND_TRIPS = 2;

/**
 * How many entries a consumer holds in process beyond its workers (read-ahead), and so how large its
 * reads are. With `prefetch` set, that is the fixed read-ahead. Without it, it adapts (docs/contract.md, "Delivery semantics", Reads):
 *
 * - `handlerMs`: moving average (EWMA, α 0.2) of one message's handler time, measured by the workers
 *   (a batch handler's call counts as its time over the messages it ran);
 * - `readMs`: moving average of an `XREADGROUP` round trip, from reads that returned a full batch
 *   (data was waiting, so the read did not block);
 * - while handlers are shorter than a read (`handlerMs < readMs`), the workers would empty a batch
 *   before the next one arrives: read ahead what they run during two round trips,
 *   `2 × concurrency × readMs / handlerMs`, at least `concurrency`, at most `MAX_READ_AHEAD` (2048);
 *   the next read goes out when half of it was taken, so a round trip of work is still queued;
 * - otherwise (slow handlers) no read-ahead: reads ask for no more than the free workers, so other
 *   consumers of the group get the rest.
 *
 * Until the first handler time is known, there is no read-ahead.
 */
export class ReadSize {
  #concurrency: number;
  readonly #fixed: number | null;
  #handlerMs = -1;
  #readMs = -1;
  #readAhead: number;

  constructor(concurrency: number, prefetch: number | null) {
    this.#concurrency = concurrency;
    this.#fixed = prefetch;
    this.#readAhead = prefetch ?? 0;
  }

  /** Entries held beyond the workers: the fixed `prefetch`, or the adaptive read-ahead. */
  get readAhead(): number {
    return this.#readAhead;
  }

  /** Moving averages, ms (-1 until measured): for docs, tests and debugging. */
  get averages(): { handlerMs: number; readMs: number } {
    return { handlerMs: this.#handlerMs, readMs: this.#readMs };
  }

  /** The consumer runs `concurrency` workers from now on (`runtime.setConcurrency`): re-pick the read-ahead. */
  resize(concurrency: number): void {
    this.#concurrency = concurrency;
    this.#pick();
  }

  /** One message's handlers took `ms`. */
  handled(ms: number): void {
    this.#handlerMs = this.#handlerMs < 0 ? ms : this.#handlerMs + ALPHA * (ms - this.#handlerMs);
  }

  /** A read that returned a full batch took `ms`. Re-picks the read-ahead. */
  read(ms: number): void {
    this.#readMs = this.#readMs < 0 ? ms : this.#readMs + ALPHA * (ms - this.#readMs);
    this.#pick();
  }

  #pick(): void {
    if (this.#fixed !== null || this.#handlerMs < 0 || this.#readMs < 0) return;
    if (this.#handlerMs >= this.#readMs) {
      this.#readAhead = 0;
      return;
    }
    const perRoundTrip = (this.#concurrency * this.#readMs) / Math.max(this.#handlerMs, 0.001);
    const wanted = Math.ceil(READ_AHEAD_ROUND_TRIPS * perRoundTrip);
    this.#readAhead = Math.min(MAX_READ_AHEAD, Math.max(this.#concurrency, wanted));
  }
}
