import type { StreamEntry } from './stream-storage.js';

/**
 * Durable delayed re-delivery of a message that used up its in-process attempts. When one is
 * configured (`createRuntime({ retryScheduler })`), such a message is handed to it and then acked,
 * instead of being dead-lettered, while its `x-retry-attempt` header is below
 * `retry.scheduled.attempts`. Built in: `RedisRetryScheduler` (a sorted set beside the stream) and
 * `MemoryRetryScheduler` (timers on a clock, for `MemoryStreamStorage`).
 *
 * A re-delivered message is a new stream entry (a new id, at the end of the stream). A message with
 * an ordering key is therefore not handed over: it is retried in place (it stays pending and holds
 * its key for the same delay; docs/scaling.md, "Ordered retries").
 *
 * @example
 * const retryScheduler: RetryScheduler = {
 *   async schedule(stream, entry, delayMs) {
 *     await db.insert({ stream, fields: entry.fields, dueAt: Date.now() + delayMs })
 *   },
 * }
 */
export interface RetryScheduler {
  /**
   * Re-add `entry.fields` to `stream` (XADD, a new id) after `delayMs` (ms). The fields already carry
   * the next `x-retry-attempt`. It must be durable before it resolves: the source entry is acked
   * right after. Not called for a message with an ordering key (it is retried in place). Scheduling the same entry (same id and fields) twice should re-deliver it once.
   */
  schedule(stream: string, entry: StreamEntry, delayMs: number): Promise<void>;
  /**
   * Called by `runtime.start()` with the streams of its consumers: begin re-adding their due
   * messages (including those scheduled by an earlier process). May be called again with more.
   */
  start?(streams: readonly string[]): void;
  /** Stop any timer or connection the scheduler opened. Called by `runtime.stop()`. */
  close?(): Promise<void>;
}
