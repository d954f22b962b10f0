import { BatchError } from '../errors/batch-error.js';
import type { Message } from '../wire/message.js';
import type { Handler, HandlerContext } from './handler.js';

/** Most messages per batch call. */
const MAX_BATCH_SIZE = 10_000;
/** Longest wait to fill a batch, ms. */
const MAX_BATCH_WAIT_MS = 60_000;

/**
 * A batch handler (`router.batch`): gets up to `size` messages of its type per call, in stream
 * order. Resolve to ack them all; throw to retry the whole batch; throw `BatchError` to fail only
 * some (the rest are acked); throw `NonRetryableError` to dead-letter them all at once.
 *
 * @typeParam C - the container type.
 * @typeParam P - the payload type (unchecked: batch routes take no schema).
 * @example
 * const store: BatchHandler<Services, { value: number }> = async (messages, ctx) => {
 *   await ctx.container.db.insertMany(messages.map((m) => m.payload))
 * }
 */
export type BatchHandler<C = unknown, P = unknown> = (
  messages: readonly Message<P>[],
  ctx: HandlerContext<C>,
) => unknown;

/**
 * Options of `router.batch`.
 *
 * @example
 * router.batch('metric.sampled', store, { size: 100, waitMs: 20 })
 */
export interface BatchOptions {
  /** Most messages per call, 1–10 000. @default 100 */
  size?: number;
  /**
   * Longest wait for a batch to fill, ms, 0–60 000, from its first message: then the batch runs with
   * what it has. 0 runs what one read brought at once. @default 20
   */
  waitMs?: number;
  /**
   * The route's name in logs, metrics and retries; unique among the routes of its type.
   * @default `${type}#${n}`
   */
  name?: string;
}

/** A batch route's settings, as the runtime collects and runs its batches. */
export interface BatchSettings<C = unknown> {
  readonly size: number;
  readonly waitMs: number;
  readonly handler: BatchHandler<C>;
}

/** Checks `router.batch`'s options and fills the defaults. */
export function batchSettings<C>(
  type: string,
  handler: BatchHandler<C>,
  options: BatchOptions | undefined,
): BatchSettings<C> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`Expected the batch options of "${type}" to be an object, got ${typeof options}`);
  }
  const size = options?.size ?? 100;
  const waitMs = options?.waitMs ?? 20;
  if (typeof size !== 'number' || !Number.isInteger(size)) {
    throw new TypeError(`Expected \`size\` of the batch "${type}" to be an integer, got ${String(size)}`);
  }
  if (size < 1 || size > MAX_BATCH_SIZE) {
    throw new RangeError(
      `Expected \`size\` of the batch "${type}" to be from 1 to ${MAX_BATCH_SIZE}, got ${size}`,
    );
  }
  if (typeof waitMs !== 'number' || Number.isNaN(waitMs)) {
    throw new TypeError(`Expected \`waitMs\` of the batch "${type}" to be a number, got ${String(waitMs)}`);
  }
  if (waitMs < 0 || waitMs > MAX_BATCH_WAIT_MS) {
    throw new RangeError(
      `Expected \`waitMs\` of the batch "${type}" to be from 0 to ${MAX_BATCH_WAIT_MS} ms, got ${waitMs}`,
    );
  }
  return Object.freeze({ size, waitMs, handler });
}

/**
 * The batch handler as a per-message handler: a batch of one. What runs a batch-typed message
 * outside a batch (`runtime.dispatch`); a `BatchError` naming the message rethrows its own error.
 */
export function singleMessage<C>(handler: BatchHandler<C>): Handler<C> {
  return (message, ctx) => {
    const unwrap = (error: unknown): never => {
      if (!(error instanceof BatchError)) throw error;
      if (!error.failures.has(message.id)) return undefined as never;
      const own = error.failures.get(message.id);
      if (own instanceof Error) throw own;
      throw own === undefined ? new Error(error.message) : new Error(String(own));
    };
    let result: unknown;
    try {
      result = handler([message], ctx);
    } catch (error) {
      return unwrap(error);
    }
    return result instanceof Promise ? result.catch(unwrap) : result;
  };
}
