import type { DeadReason } from '../machines/dispatch-worker-machine.js';

/** Most messages remembered per consumer; the oldest is forgotten past it. */
const LIMIT = 10_000;

/** Why a message was to be dead-lettered when the dead-letter write failed. */
export interface PendingDeadLetter {
  reason: DeadReason;
  error: string;
}

/**
 * The messages of one consumer whose dead-letter write failed (the message stays pending and comes
 * back through a claim), with the reason and error they were to be dead-lettered for. When such a
 * message comes back, it goes straight to the dead-letter stream with that first reason, instead of
 * running its handlers again and, after enough deliveries, being labelled `max-deliveries`.
 *
 * Kept in the process, across the consumer's restarts (at most 10,000 messages, the oldest forgotten
 * first): a message claimed by another process, or after this one exits, is dead-lettered for what
 * happens there. A record in Redis would be written where the dead letter just failed to be.
 *
 * @example
 * memory.remember('1-0', { reason: 'non-retryable', error: 'bad card' })
 * memory.get('1-0') // { reason: 'non-retryable', error: 'bad card' }
 */
export class DeadLetterMemory {
  readonly #pending = new Map<string, PendingDeadLetter>();

  /** Messages remembered now. */
  get size(): number {
    return this.#pending.size;
  }

  /** Remember the first reason of `id` (a later failure of the same message keeps the first). */
  remember(id: string, pending: PendingDeadLetter): void {
    if (this.#pending.has(id)) return;
    if (this.#pending.size >= LIMIT) {
      const oldest = this.#pending.keys().next();
      if (!oldest.done) this.#pending.delete(oldest.value);
    }
    this.#pending.set(id, pending);
  }

  /** The remembered reason of `id`, if any (it stays until `forget`). */
  get(id: string): PendingDeadLetter | undefined {
    return this.#pending.size === 0 ? undefined : this.#pending.get(id);
  }

  /** Forget `id` (its dead letter was written). */
  forget(id: string): void {
    if (this.#pending.size > 0) this.#pending.delete(id);
  }
}
