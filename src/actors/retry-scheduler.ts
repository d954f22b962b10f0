import type { StreamEntry } from '../storage/stream-storage.js';

/**
 * Durable delayed re-delivery of a message that used up its in-process attempts. When one is
 * configured (`createRuntime({ retryScheduler })`), such a message is handed to it and then acked,
 * instead of being dead-lettered.
 *
 * @example
 * const retryScheduler: RetryScheduler = { async schedule(stream, entry, delayMs) { ... } }
 */
export interface RetryScheduler {
  /**
   * Re-add `entry` to `stream` after `delayMs`. It must be durable before it resolves: the source
   * is acked right after.
   */
  schedule(stream: string, entry: StreamEntry, delayMs: number): Promise<void>;
  /** Stop any timer or connection the scheduler opened. */
  close?(): Promise<void>;
}
