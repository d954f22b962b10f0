import type { DeadReason } from '../machines/dispatch-worker-machine.js';

/** Counters of one consumer, kept across its restarts. Plain fields: updated per message. */
export class ConsumerStats {
  /** Messages whose handlers all succeeded (or that were unrouted and acked). */
  processed = 0;
  /** Failed handler attempts. */
  failed = 0;
  /** Attempts scheduled again in process. */
  retried = 0;
  deadLettered = 0;
  readonly deadLetteredByReason: Partial<Record<DeadReason, number>> = {};
  /** Dead-letter writes that failed (the message stayed pending, to be dead-lettered when it comes back). */
  deadLetterFailures = 0;
  /** Messages handed to the durable retry scheduler. */
  scheduled = 0;
  /** Unrouted messages acked without a handler (counted in `processed` too). */
  unrouted = 0;
  /**
   * Ordering keys whose message in flight is failing (retrying in process, or waiting in place for
   * its scheduled retry): their later messages wait until it succeeds or is dead-lettered. A gauge.
   */
  keysWaiting = 0;
  /** Entries removed from the stream by this consumer's `retention`. */
  trimmed = 0;
  /** Outputs of `ctx.publish` written with their message's ack (not those whose ack found the entry acked already). */
  published = 0;
  /** Each handler call's duration (ms), message type and success go to this hook when set (the dashboard sets it). */
  onHandlerDuration: ((ms: number, type: string, ok: boolean) => void) | undefined;

  recordDeadLetter(reason: DeadReason): void {
    this.deadLettered++;
    this.deadLetteredByReason[reason] = (this.deadLetteredByReason[reason] ?? 0) + 1;
  }
}
