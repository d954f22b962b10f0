import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Logger } from 'pino';
import type { Message } from '../wire/message.js';
import type { PublishOptions } from '../wire/publish.js';
import type { BatchSettings } from './batch.js';

/**
 * What a handler gets besides the message.
 *
 * @typeParam C - the container (services, clients) given to `createRuntime({ container })`.
 * @example
 * router.on('invoice.paid', async (message, ctx) => {
 *   ctx.log.info({ attempt: ctx.attempt }, 'sending receipt')
 *   await ctx.container.mailer.send(message.payload, { signal: ctx.signal })
 * })
 */
export interface HandlerContext<C = unknown> {
  /** The container given to `createRuntime`. */
  readonly container: C;
  /** Aborted when the runtime stops and its drain deadline has passed: stop work and reject. */
  readonly signal: AbortSignal;
  /** 1 for the first run of this handler for this delivery, 2 for its first retry, and so on. */
  readonly attempt: number;
  /**
   * A pino logger bound to the consumer (`consumerId`, `stream`, `group`, `consumer`) and the message
   * (`messageId`, `messageType`).
   */
  readonly log: Logger;
  /**
   * Publish a message (encoded as `publish()` does: `key`, `partitions`, `headers`, `maxLen`, trace
   * context) **with this message's ack**: it is buffered, and written only when the message
   * succeeds, in one atomic step with its XACK, and only if that XACK acked it. A message a slow
   * consumer and the consumer that claimed it both finish, or one re-run after a crash, writes its
   * outputs once. A handler that fails drops what it published (retry, durable retry, dead letter,
   * stop: nothing is written); handlers of the message that already succeeded keep theirs.
   * `runtime.dispatch` returns what was published instead of writing it.
   *
   * @throws TypeError on a bad argument (as `publish()`); on a Redis Cluster when the target stream
   *   is not in the consumed stream's slot (give both one hash tag, or use `publish()`, at least
   *   once); when the storage has no `ackAndAdd`; when called after the handler settled.
   * @example
   * router.on('order.paid', (message, ctx) => {
   *   ctx.publish('invoices', 'invoice.due', { orderId: message.payload.orderId })
   * })
   */
  publish(stream: string, type: string, payload?: unknown, options?: PublishOptions): void;
}

/**
 * A message handler. It may return a promise; the message is acked once every matching handler
 * has resolved. Throw to retry (with backoff), throw `NonRetryableError` to dead-letter at once.
 *
 * The payload type `P` is `unknown` by default, which is what a stream can hold. Narrow it with
 * `schema` in the handler options (checked at run time, and inferred), or by annotating the
 * message parameter (`message: Message<Order>`, an unchecked claim).
 *
 * @typeParam C - the container type.
 * @typeParam P - the payload type.
 * @example
 * const onJoined: Handler<Services, { userId: number }> = async (message, ctx) => {
 *   await ctx.container.db.addMember(message.payload.userId)
 * }
 */
export type Handler<C = unknown, P = unknown> = (message: Message<P>, ctx: HandlerContext<C>) => unknown;

/**
 * Options of `router.on`.
 *
 * @typeParam P - the payload type; inferred from `schema` when one is given.
 * @example
 * router.on('order.created', handle, {
 *   schema: z.object({ orderId: z.string() }),
 *   filter: (message) => message.fields['x-tenant'] === 'acme',
 *   name: 'create-invoice',
 * })
 */
export interface HandlerOptions<P> {
  /**
   * Run the handler only for messages it returns `true` for. Runs before `schema`, so it sees the
   * raw payload. A filter that throws fails the message like a handler that throws.
   */
  filter?: (message: Message) => boolean;
  /**
   * A Standard Schema (zod 4, valibot, arktype, …) for the payload. The handler receives the
   * schema's output; a payload that fails it is dead-lettered at once (reason `non-retryable`).
   */
  schema?: StandardSchemaV1<unknown, P>;
  /**
   * The route's name in logs, metrics and retries; unique among the routes of its type.
   * @default `${type}#${n}`, n counting the process' registrations of that type from 1
   */
  name?: string;
}

/**
 * One registration made with `router.on`, as the runtime dispatches it.
 *
 * @typeParam C - the container type.
 * @example
 * for (const route of router.match(message)) await route.handler(await validatePayload(route, message), ctx)
 */
export interface Route<C = unknown> {
  /** The message type it handles. */
  readonly type: string;
  /** Unique among the routes of `type` in a router tree, stable for the registration. */
  readonly name: string;
  readonly handler: Handler<C>;
  readonly filter?: (message: Message) => boolean;
  readonly schema?: StandardSchemaV1;
  /**
   * Set on a route made by `router.batch`: its size, wait and batch handler. Its `handler` then runs
   * the batch handler with a batch of one (as `runtime.dispatch` does).
   */
  readonly batch?: BatchSettings<C>;
}
