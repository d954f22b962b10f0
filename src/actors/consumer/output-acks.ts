import { isRetriable } from '../../machines/classify-error.js';
import type { EntryWrite } from '../../storage/stream-storage.js';
import type { ConsumerDeps } from '../consumer-deps.js';

/** Wait before retrying after a connection error, ms (as the batched XACK). */
const RETRY_MS = 200;

/**
 * The acks of messages whose handlers published with `ctx.publish`: each one is `ackAndAdd` (XACK,
 * and only if it acked the entry, the XADDs of its outputs, in one script), sent at once. Messages
 * without outputs never come here: they take the batched XACK (`AckBatcher`). A call that failed on
 * the connection is sent again after `retryMs`, which is safe: a second call whose XACK finds the
 * entry acked writes nothing. Meanwhile the message stays pending (at-least-once for the message,
 * exactly once for its outputs).
 */
export class OutputAcks {
  #deps: ConsumerDeps;
  /** Called when an ack fails for a reason other than the connection (NOGROUP, WRONGTYPE, …). */
  #onError: (error: unknown) => void;
  /** Ids sent or waiting to be sent again, not yet confirmed. */
  #unconfirmed = new Set<string>();
  #inFlight = new Set<Promise<void>>();
  /** Retries waiting for their timer, by timer. */
  #retries = new Map<unknown, () => void>();
  /** A drain's last try: no more retries. */
  #final = false;
  #closed = false;

  constructor(deps: ConsumerDeps, onError: (error: unknown) => void) {
    this.#deps = deps;
    this.#onError = onError;
  }

  /** Ids handled whose ack (with outputs) has not landed yet; see `AckBatcher.unconfirmed`. */
  unconfirmed(): ReadonlySet<string> {
    return this.#unconfirmed;
  }

  add(id: string, entries: readonly EntryWrite[]): void {
    if (this.#closed) return;
    this.#unconfirmed.add(id);
    this.#send(id, entries);
  }

  #send(id: string, entries: readonly EntryWrite[]): void {
    const { storage, spec, logger, clock } = this.#deps;
    const { stream, group } = spec;
    const call =
      storage.ackAndAdd?.(stream, group, id, entries) ??
      Promise.reject(new TypeError('Expected the storage to have `ackAndAdd` (ctx.publish needs it)'));
    const sent: Promise<void> = call
      .then(
        (acked) => {
          this.#unconfirmed.delete(id);
          if (acked) this.#deps.stats.published += entries.length;
          else {
            logger.debug(
              { messageId: id, outputs: entries.length },
              'message already acked (another consumer finished it): its outputs were not written again',
            );
          }
        },
        (error: unknown) => {
          if (isRetriable(error) && !this.#closed && !this.#final) {
            const retry = () => this.#send(id, entries);
            const timer = clock.setTimeout(() => {
              this.#retries.delete(timer);
              retry();
            }, RETRY_MS);
            this.#retries.set(timer, retry);
            return;
          }
          this.#unconfirmed.delete(id);
          if (!this.#closed) this.#onError(error);
        },
      )
      .finally(() => this.#inFlight.delete(sent));
    this.#inFlight.add(sent);
  }

  /**
   * Resolves once every ack sent has settled; those waiting to be retried get one last try now. What
   * still fails stays pending in Redis and is handled again later, outputs included (they were not
   * written).
   */
  async flush(): Promise<void> {
    this.#final = true;
    for (const [timer, retry] of this.#retries) {
      this.#deps.clock.clearTimeout(timer);
      retry();
    }
    this.#retries.clear();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Stop retrying and drop what waits for a retry (it stays pending in Redis). */
  close(): void {
    this.#closed = true;
    for (const timer of this.#retries.keys()) this.#deps.clock.clearTimeout(timer);
    this.#retries.clear();
  }
}
