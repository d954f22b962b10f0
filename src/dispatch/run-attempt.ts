import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConsumerStats } from '../consumer/consumer-stats.js';
import { ConsumerStoppingError } from '../errors/consumer-stopping-error.js';
import { HandlerTimeoutError } from '../errors/handler-timeout-error.js';
import { NonRetryableError } from '../errors/non-retryable-error.js';
import { errorText } from '../machines/classify-error.js';
import type { SettledEvent } from '../machines/dispatch-worker-machine.js';
import type { HandlerContext } from '../routing/handler.js';
import { decodeMessage } from '../routing/message.js';
import type { Router } from '../routing/router.js';
import { validatePayload } from '../routing/schema.js';
import type { ResolvedConsumer } from '../runtime/runtime-options.js';
import type { DispatchJob } from './dispatch-job.js';

export interface AttemptDeps {
  spec: ResolvedConsumer;
  router: Router<unknown>;
  container: unknown;
  logger: Logger;
  clock: Clock;
  stats: ConsumerStats;
}

/** The outcome of a successful attempt (one shared object: no allocation per message). */
const OK: SettledEvent = Object.freeze({ type: 'handler.settled', outcome: 'ok' });

/** Decode (once) and check the message; returns a terminal outcome, or null when handlers should run. */
function admit(deps: AttemptDeps, job: DispatchJob): SettledEvent | null {
  const { spec } = deps;
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
  const message = job.message!;
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
  const routes = job.routes!;
  const route = routes[0]!;
  if (routes.length === 1 && route.schema === undefined && deps.spec.handlerTimeoutMs === undefined) {
    // A duration hook (the dashboard's histogram) is timed here too: it must not cost the slow path.
    const timed = deps.stats.onHandlerDuration;
    const started = timed === undefined ? 0 : performance.now();
    const type = job.message!.type;
    let result: unknown;
    try {
      result = route.handler(job.message!, new AttemptContext(deps, job, attempt));
    } catch (error) {
      timed?.(performance.now() - started, type, false);
      return failed(deps, job, attempt, error);
    }
    if (!isThenable(result)) {
      timed?.(performance.now() - started, type, true);
      return settle(job, OK);
    }
    result.then(
      () => {
        timed?.(performance.now() - started, type, true);
        listener.attemptSettled(job, settle(job, OK));
      },
      (error: unknown) => {
        timed?.(performance.now() - started, type, false);
        listener.attemptSettled(job, failed(deps, job, attempt, error));
      },
    );
    return null;
  }
  runRoutes(deps, job, attempt).then((event) => listener.attemptSettled(job, event));
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
  if (job.released) return { type: 'handler.settled', outcome: 'released' };
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
async function runRoutes(deps: AttemptDeps, job: DispatchJob, attempt: number): Promise<SettledEvent> {
  const routes = job.routes!;
  const message = job.message!;
  const controller = new AbortController();
  job.controller = controller;
  const timeoutMs = deps.spec.handlerTimeoutMs;
  const timer =
    timeoutMs === undefined
      ? undefined
      : deps.clock.setTimeout(() => controller.abort(new HandlerTimeoutError(timeoutMs)), timeoutMs);
  const ctx = new AttemptContext(deps, job, attempt);
  let failure: unknown = null;
  try {
    for (const route of routes) {
      // A stop released the message: start none of its other handlers (it stays pending).
      if (job.released) return { type: 'handler.settled', outcome: 'released' };
      if (job.succeeded?.has(route.name)) continue;
      const started = deps.stats.onHandlerDuration ? performance.now() : 0;
      let ok = false;
      try {
        const input = route.schema ? await validatePayload(route, message) : message;
        if (timer === undefined) await route.handler(input, ctx);
        else await raceAbort(route.handler(input, ctx), controller.signal);
        ok = true;
        if (routes.length > 1) {
          job.succeeded ??= new Set();
          job.succeeded.add(route.name);
        }
      } catch (error) {
        if (error instanceof NonRetryableError) return failed(deps, job, attempt, error);
        failure ??= error;
      } finally {
        if (started) deps.stats.onHandlerDuration?.(performance.now() - started, message.type, ok);
      }
    }
  } finally {
    if (timer !== undefined) deps.clock.clearTimeout(timer);
    job.controller = null;
  }
  if (failure === null) return OK;
  return failed(deps, job, attempt, failure);
}

/**
 * `ctx` of a handler. The child logger is made only when a handler asks for it, and so is the
 * AbortController behind `ctx.signal` (unless the attempt has a timeout, which makes it up front).
 */
class AttemptContext implements HandlerContext<unknown> {
  readonly container: unknown;
  readonly attempt: number;
  #deps: AttemptDeps;
  #job: DispatchJob;
  /** Kept here: a handler may still log after its message left the pool (acked, or released by a stop). */
  #type: string | undefined;
  #log: Logger | undefined;

  constructor(deps: AttemptDeps, job: DispatchJob, attempt: number) {
    this.container = deps.container;
    this.attempt = attempt;
    this.#deps = deps;
    this.#job = job;
    this.#type = job.message?.type;
  }

  get signal(): AbortSignal {
    const job = this.#job;
    if (job.controller === null) {
      job.controller = new AbortController();
      // A stop that already released the message: the signal starts aborted.
      if (job.released) job.controller.abort(new ConsumerStoppingError());
    }
    return job.controller.signal;
  }

  get log(): Logger {
    this.#log ??= this.#deps.logger.child({ messageId: this.#job.id, messageType: this.#type });
    return this.#log;
  }
}

/** Settle with the handler, or reject as soon as the signal aborts (a timeout), whichever is first. */
function raceAbort(value: unknown, signal: AbortSignal): Promise<unknown> {
  if (!(value instanceof Promise)) return Promise.resolve(value);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    value.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Why no handler took a message: none registered for its type, or every one filtered it out. */
function unroutedReason(router: Router<unknown>, type: string): string {
  const registered = router.routes(type).length;
  return registered === 0
    ? `No handler for type "${type}"`
    : `Every handler for type "${type}" (${registered}) filtered the message out`;
}
