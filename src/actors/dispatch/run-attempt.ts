import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { HandlerTimeoutError } from '../../errors/handler-timeout-error.js';
import { NonRetryableError } from '../../errors/non-retryable-error.js';
import { errorText } from '../../machines/classify-error.js';
import type { SettledEvent } from '../../machines/dispatch-worker-machine.js';
import type { Route } from '../../routing/handler.js';
import type { Router } from '../../routing/router.js';
import type { StreamStorage } from '../../storage/stream-storage.js';
import { decodeMessage, type Message } from '../../wire/message.js';
import type { ResolvedConsumer } from '../consumer-options.js';
import type { ConsumerStats } from '../consumer-stats.js';
import type { DeadLetterMemory } from '../dead-letter-memory.js';
import { AttemptContext } from './attempt-context.js';
import { callRoutes, type PassResult } from './call-routes.js';
import type { DispatchJob } from './dispatch-job.js';

/** A message past its checks, and the routes it runs. */
interface Admitted {
  routes: readonly Route<unknown>[];
  message: Message;
}

export interface AttemptDeps {
  spec: ResolvedConsumer;
  /** Where `ctx.publish` checks its target (`ackAndAdd`, `sameSlot`). */
  storage: StreamStorage;
  router: Router<unknown>;
  container: unknown;
  logger: Logger;
  clock: Clock;
  stats: ConsumerStats;
  /** Messages whose dead-letter write failed earlier: they go back to deadLettering, same reason. */
  deadLetterMemory?: DeadLetterMemory;
}

/** The outcome of a successful attempt (one shared object: no allocation per message). */
const OK: SettledEvent = Object.freeze({ type: 'handler.settled', outcome: 'ok' });
/**
 * A stop released the message (its deadline passed, its signal was aborted) before its handlers
 * settled: even a success then leaves it pending, as the contract says of what did not finish in
 * time; it is handled again later. Not a matter of when the drain flushes its acks.
 */
const RELEASED: SettledEvent = Object.freeze({ type: 'handler.settled', outcome: 'released' });

/** Decode (once) and check the message; returns a terminal outcome, or null when handlers should run. */
function admit(deps: AttemptDeps, job: DispatchJob): SettledEvent | null {
  const { spec } = deps;
  const earlier = deps.deadLetterMemory?.get(job.id);
  if (earlier !== undefined) {
    return { type: 'handler.settled', outcome: 'dead', reason: earlier.reason, error: earlier.error };
  }
  if (job.entry.deliveries > spec.deadLetter.maxDeliveries) {
    return {
      type: 'handler.settled',
      outcome: 'dead',
      reason: 'max-deliveries',
      error: `Delivered ${job.entry.deliveries} times, over deadLetter.maxDeliveries ${spec.deadLetter.maxDeliveries}`,
    };
  }
  if (job.message === null && job.decodeError === null) decode(deps, job);
  if (job.decodeError !== null) {
    return {
      type: 'handler.settled',
      outcome: 'dead',
      reason: job.decodeError.reason,
      error: job.decodeError.error,
    };
  }
  const message = job.message;
  if (message === null) throw new Error(`Message ${job.id} was neither decoded nor refused; this is a bug`);
  try {
    job.routes = deps.router.match(message);
  } catch (error) {
    // A filter that throws fails the attempt like a handler that throws.
    deps.stats.failed++;
    return { type: 'handler.settled', outcome: 'failed', error: `Filter failed: ${errorText(error)}` };
  }
  if (job.routes.length === 0) {
    if (spec.unrouted === 'dead-letter') {
      return {
        type: 'handler.settled',
        outcome: 'dead',
        reason: 'unrouted',
        error: unroutedReason(deps.router, message.type),
      };
    }
    deps.stats.unrouted++;
    deps.logger.debug(
      { messageId: job.id, messageType: message.type, reason: unroutedReason(deps.router, message.type) },
      'unrouted message acked',
    );
    return OK;
  }
  return null;
}

export function decode(deps: Pick<AttemptDeps, 'spec'>, job: DispatchJob): void {
  const result = decodeMessage(deps.spec.stream, job.entry, { maxPayloadBytes: deps.spec.maxPayloadBytes });
  if (result.ok) job.message = result.message;
  else job.decodeError = { reason: result.reason, error: result.error };
}

/** Who hears about an attempt that settles later (a handler that returned a promise). */
export interface AttemptListener {
  attemptSettled(job: DispatchJob, event: SettledEvent): void;
}

/**
 * Run one attempt of a message: the routes that have not yet succeeded, in registration order.
 * Every route runs even when an earlier one failed; only the failed ones run again next attempt.
 * Never throws. Returns the `handler.settled` outcome when the attempt settled synchronously (a
 * handler that returned no promise, or no handler ran); otherwise returns `null` and tells
 * `listener` once it settles.
 *
 * The common case (one route, no schema, no timeout; a duration hook is fine) calls the handler directly:
 * no async function, no AbortController unless the handler reads `ctx.signal`, one promise hop for
 * an async handler and none for a synchronous one.
 */
export function runAttempt(
  deps: AttemptDeps,
  job: DispatchJob,
  attempt: number,
  listener: AttemptListener,
): SettledEvent | null {
  // Routes are picked once per delivery (a filter that threw leaves none: the next attempt picks again).
  if (job.routes === null) {
    const verdict = admit(deps, job);
    if (verdict !== null) return verdict;
  }
  const { routes, message } = job;
  const route = routes?.[0];
  if (routes === null || message === null || route === undefined) {
    throw new Error(`Message ${job.id} reached its handlers without routes; this is a bug in streamvisor`);
  }
  if (routes.length === 1 && route.schema === undefined && deps.spec.handlerTimeoutMs === undefined) {
    // A duration hook (the dashboard's histogram) is timed here too: it must not cost the slow path.
    const timed = deps.stats.onHandlerDuration;
    const started = timed === undefined ? 0 : performance.now();
    const type = message.type;
    const ctx = new AttemptContext(deps, job, attempt);
    let result: unknown;
    try {
      result = route.handler(message, ctx);
    } catch (error) {
      timed?.(performance.now() - started, type, false);
      ctx.end(false);
      return failed(deps, job, attempt, error);
    }
    if (!isThenable(result)) {
      timed?.(performance.now() - started, type, true);
      ctx.end(true);
      return settle(job, OK);
    }
    result.then(
      () => {
        timed?.(performance.now() - started, type, true);
        ctx.end(true);
        listener.attemptSettled(job, settle(job, job.released ? RELEASED : OK));
      },
      (error: unknown) => {
        timed?.(performance.now() - started, type, false);
        ctx.end(false);
        listener.attemptSettled(job, failed(deps, job, attempt, error));
      },
    );
    return null;
  }
  runRoutes(deps, job, attempt, { routes, message }).then((event) => listener.attemptSettled(job, event));
  return null;
}

function settle(job: DispatchJob, event: SettledEvent): SettledEvent {
  job.controller = null;
  return event;
}

/** A failed attempt: counted and logged; `released` when a stop aborted the message. */
function failed(deps: AttemptDeps, job: DispatchJob, attempt: number, error: unknown): SettledEvent {
  job.controller = null;
  if (error instanceof NonRetryableError) {
    return { type: 'handler.settled', outcome: 'dead', reason: 'non-retryable', error: errorText(error) };
  }
  if (job.released) return RELEASED;
  deps.stats.failed++;
  deps.logger.debug({ messageId: job.id, attempt, err: error }, 'handler attempt failed');
  return { type: 'handler.settled', outcome: 'failed', error: errorText(error) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Every other case: several routes, a schema or a timeout. */
async function runRoutes(
  deps: AttemptDeps,
  job: DispatchJob,
  attempt: number,
  admitted: Admitted,
): Promise<SettledEvent> {
  const { routes, message } = admitted;
  const controller = new AbortController();
  job.controller = controller;
  const timeoutMs = deps.spec.handlerTimeoutMs;
  const timer =
    timeoutMs === undefined
      ? undefined
      : deps.clock.setTimeout(() => controller.abort(new HandlerTimeoutError(timeoutMs)), timeoutMs);
  const duration = deps.stats.onHandlerDuration;
  let result: PassResult;
  const ctx = new AttemptContext(deps, job, attempt);
  try {
    result = await callRoutes(routes, message, ctx, {
      // A stop released the message: start none of its other handlers (it stays pending).
      stopped: () => job.released,
      skip: (route) => job.succeeded?.has(route.name) === true,
      started: () => ctx.started(),
      succeeded: (route) => {
        ctx.settled(true);
        if (routes.length === 1) return;
        job.succeeded ??= new Set();
        job.succeeded.add(route.name);
      },
      ...(timer === undefined ? {} : { race: controller.signal }),
      ...(duration === undefined
        ? {}
        : { duration: (ms: number, ok: boolean) => duration(ms, message.type, ok) }),
      endOnNonRetryable: true,
    });
  } finally {
    if (timer !== undefined) deps.clock.clearTimeout(timer);
    job.controller = null;
    ctx.end(false);
  }
  if (result.ended === 'stopped' || (!result.failed && job.released)) return RELEASED;
  if (!result.failed) return OK;
  return failed(deps, job, attempt, result.failure);
}

/** Why no handler took a message: none registered for its type, or every one filtered it out. */
function unroutedReason(router: Router<unknown>, type: string): string {
  const registered = router.routes(type).length;
  return registered === 0
    ? `No handler for type "${type}"`
    : `Every handler for type "${type}" (${registered}) filtered the message out`;
}
