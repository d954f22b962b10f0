import { StreamvisorError } from './streamvisor-error.js';

/** A message of a batch, or its id: what `BatchError` names a failed message by. */
type MessageRef = string | { readonly id: string };

/**
 * Throw it from a batch handler (`router.batch`) when only some messages of the batch failed: the
 * others are acked, the ones it lists take the retry path alone (a batch of just them, after the
 * retry backoff; after `retry.attempts`, each its own durable retry or dead letter). A listed error
 * that is a `NonRetryableError` dead-letters that message (reason `non-retryable`) instead.
 * Messages it lists that are not in the batch are ignored; a `BatchError` that lists none acks the
 * whole batch.
 *
 * @example
 * router.batch('metric.sampled', async (messages, ctx) => {
 *   const rejected = await ctx.container.tsdb.insert(messages.map((m) => m.payload))
 *   if (rejected.length > 0) {
 *     throw new BatchError(rejected.map((row) => [messages[row.index], new Error(row.reason)]))
 *   }
 * }, { size: 100, waitMs: 20 })
 */
export class BatchError extends StreamvisorError {
  override name = 'BatchError';
  /** The failed messages' ids, each with what it failed with (in the order given). */
  readonly failures: ReadonlyMap<string, unknown>;

  /**
   * @param failures - the failed messages (or their ids), each with its error: a `Map`, or an
   *   iterable of `[message, error]` pairs. A message given without a pair (`[message]`) gets this
   *   error's message as its error text.
   * @throws TypeError when `failures` is not iterable, or an item names no message.
   */
  constructor(
    failures: Iterable<readonly [MessageRef, unknown?]> | ReadonlyMap<MessageRef, unknown>,
    message?: string,
  ) {
    const byId = new Map<string, unknown>();
    if (failures === null || typeof (failures as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(
        'Expected `failures` of BatchError to be a Map or an iterable of [message, error] pairs',
      );
    }
    for (const item of failures as Iterable<readonly [MessageRef, unknown?]>) {
      const ref: unknown = Array.isArray(item) ? item[0] : undefined;
      const id = typeof ref === 'string' ? ref : (ref as { id?: unknown } | null | undefined)?.id;
      if (typeof id !== 'string' || id === '') {
        throw new TypeError(
          'Expected each failure of BatchError to be a [message, error] pair naming a message of the batch (or its id)',
        );
      }
      byId.set(id, (item as readonly unknown[])[1]);
    }
    super(message ?? `${byId.size} message(s) of the batch failed`, 'BATCH_PARTIAL', true);
    this.failures = byId;
  }
}
