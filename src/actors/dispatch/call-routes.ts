import { NonRetryableError } from '../../errors/non-retryable-error.js';
import type { HandlerContext, Route } from '../../routing/handler.js';
import { validatePayload } from '../../routing/schema.js';
import type { Message } from '../../wire/message.js';

/** How one pass over a message's routes is run; every hook is optional. */
export interface RoutePass {
  /** Skip a route that already succeeded on an earlier attempt. */
  skip?(route: Route<unknown>): boolean;
  /** Checked before each route: true ends the pass (a stop released the message). */
  stopped?(): boolean;
  /** Settle a handler early when this signal aborts (a timeout). */
  race?: AbortSignal;
  /** A route is about to run. */
  started?(route: Route<unknown>): void;
  /** A route succeeded. */
  succeeded?(route: Route<unknown>): void;
  /** A route's handler (and schema) took `ms`, and succeeded or not. */
  duration?(ms: number, ok: boolean): void;
  /** End the pass at the first `NonRetryableError` (the message is dead-lettered anyway). */
  endOnNonRetryable: boolean;
}

/**
 * What a pass did: `failed` whether a route threw (even `null` or `undefined`), `failure` the first
 * thing thrown, `ended` why it stopped early.
 */
export interface PassResult {
  failed: boolean;
  failure: unknown;
  ended: 'stopped' | 'non-retryable' | null;
}

/**
 * Run a message's routes in registration order, each with its schema (if any), every one even when
 * an earlier one failed. The one handler loop behind both a consumer's attempts (`runAttempt`'s
 * general case) and `runtime.dispatch`.
 *
 * @example
 * const { failure } = await callRoutes(routes, message, ctx, { endOnNonRetryable: false })
 */
export async function callRoutes<C>(
  routes: readonly Route<C>[],
  message: Message,
  ctx: HandlerContext<C>,
  pass: RoutePass,
): Promise<PassResult> {
  let failed = false;
  let failure: unknown;
  for (const route of routes as readonly Route<unknown>[]) {
    if (pass.stopped?.()) return { failed, failure, ended: 'stopped' };
    if (pass.skip?.(route)) continue;
    pass.started?.(route);
    const timed = pass.duration === undefined ? 0 : performance.now();
    let ok = false;
    try {
      const input = route.schema ? await validatePayload(route, message) : message;
      const result = route.handler(input, ctx as HandlerContext<unknown>);
      await (pass.race === undefined ? result : raceAbort(result, pass.race));
      ok = true;
      pass.succeeded?.(route);
    } catch (error) {
      if (!failed) failure = error;
      failed = true;
      if (pass.endOnNonRetryable && error instanceof NonRetryableError)
        return { failed, failure: error, ended: 'non-retryable' };
    } finally {
      if (timed) pass.duration?.(performance.now() - timed, ok);
    }
  }
  return { failed, failure, ended: null };
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
