import type { Logger } from 'pino';
import { BatchError } from '../../errors/batch-error.js';
import { ConsumerStoppingError } from '../../errors/consumer-stopping-error.js';
import { HandlerTimeoutError } from '../../errors/handler-timeout-error.js';
import { NonRetryableError } from '../../errors/non-retryable-error.js';
import { errorText } from '../../machines/classify-error.js';
import type { SettledEvent } from '../../machines/dispatch-worker-machine.js';
import type { HandlerContext } from '../../routing/handler.js';
import type { Message } from '../../wire/message.js';
import type { Batch } from './batch.js';
import type { DispatchJob } from './dispatch-job.js';
import type { AttemptListener } from './run-attempt.js';

const OK: SettledEvent = Object.freeze({ type: 'handler.settled', outcome: 'ok' });
const RELEASED: SettledEvent = Object.freeze({ type: 'handler.settled', outcome: 'released' });

/**
 * Run one attempt of a batch: its handler with the members that have no dead-letter verdict, in
 * stream order. Never throws. Returns the outcome when the handler settled synchronously, else
 * `null`, and tells `listener` (for the head) once it settles. The attempt's timeout
 * (`handlerTimeoutMs`) covers the whole call.
 *
 * Outcomes: `ok` (every member succeeded: the worker's `complete` acks them all), `failed` (members
 * are left to retry; those a `BatchError` did not name were acked already), `dead` (only members
 * with a verdict are left), `released` (a stop aborted it: what is left stays pending).
 */
export function runBatchAttempt(
  batch: Batch,
  attempt: number,
  listener: AttemptListener,
): SettledEvent | null {
  const { head, deps } = batch;
  const active = batch.active();
  batch.ran = active.length;
  // Members are decoded by the collector before they join a batch.
  const messages = active.map((member) => member.message as Message);
  const timeoutMs = deps.spec.handlerTimeoutMs;
  let timer: unknown;
  if (timeoutMs !== undefined) {
    const controller = new AbortController();
    head.controller = controller;
    timer = deps.clock.setTimeout(() => controller.abort(new HandlerTimeoutError(timeoutMs)), timeoutMs);
  }
  const timed = deps.stats.onHandlerDuration;
  const started = timed === undefined ? 0 : performance.now();
  const done = (ok: boolean, error?: unknown): SettledEvent => {
    if (timer !== undefined) deps.clock.clearTimeout(timer);
    timed?.(performance.now() - started, batch.type, ok);
    head.controller = null;
    return settleBatch(batch, active, attempt, ok, ok ? undefined : error);
  };
  let result: unknown;
  try {
    result = batch.settings.handler(messages, new BatchContext(batch, attempt));
  } catch (error) {
    return done(false, error);
  }
  if (!isThenable(result)) return done(true);
  const signal = head.controller?.signal;
  const settled =
    signal === undefined
      ? Promise.resolve(result)
      : new Promise((resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          Promise.resolve(result).then(resolve, reject);
        });
  settled.then(
    () => listener.attemptSettled(head, done(true)),
    (error: unknown) => listener.attemptSettled(head, done(false, error)),
  );
  return null;
}

/** What an attempt's result means for each member it ran (see `runBatchAttempt`). */
function settleBatch(
  batch: Batch,
  ran: readonly DispatchJob[],
  attempt: number,
  ok: boolean,
  error: unknown,
): SettledEvent {
  const { deps } = batch;
  // A stop released the batch: whatever did not succeed stays pending.
  if (!ok && batch.head.released) return RELEASED;
  if (error instanceof BatchError) {
    for (const member of [...ran]) {
      if (!error.failures.has(member.id)) batch.settle(member, true);
      else failMember(batch, member, error.failures.get(member.id) ?? error.message);
    }
  } else if (!ok) {
    for (const member of ran) failMember(batch, member, error);
  }
  // On success nothing failed: the members left are acked by `complete`, or below when some have a verdict.
  const failed = ok ? [] : batch.active();
  if (!ok) {
    const count = failed.length;
    deps.stats.failed += count;
    deps.logger.debug(
      {
        messageType: batch.type,
        firstMessageId: batch.firstId,
        batchSize: ran.length,
        failed: count,
        attempt,
        err: error,
      },
      'batch attempt failed',
    );
  }
  const first = failed[0];
  if (first !== undefined)
    return { type: 'handler.settled', outcome: 'failed', error: batch.errors.get(first) ?? '' };
  for (const [, verdict] of batch.verdicts) {
    // Ack the members that succeeded now: only those with a verdict stay, for the dead-letter path.
    for (const member of [...batch.members]) if (!batch.verdicts.has(member)) batch.settle(member, true);
    return { type: 'handler.settled', outcome: 'dead', reason: verdict.reason, error: verdict.error };
  }
  return OK;
}

function failMember(batch: Batch, member: DispatchJob, error: unknown): void {
  if (error instanceof NonRetryableError) {
    batch.verdicts.set(member, { reason: 'non-retryable', error: errorText(error) });
  } else {
    batch.errors.set(member, errorText(error));
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** `ctx` of a batch handler: `attempt` is the batch's, `log` names the batch (type, first id, size). */
class BatchContext implements HandlerContext<unknown> {
  readonly container: unknown;
  readonly attempt: number;
  readonly #batch: Batch;
  readonly #size: number;
  readonly #firstId: string;
  #log: Logger | undefined;

  constructor(batch: Batch, attempt: number) {
    this.container = batch.deps.container;
    this.attempt = attempt;
    this.#batch = batch;
    this.#size = batch.active().length;
    this.#firstId = batch.firstId;
  }

  get signal(): AbortSignal {
    const head = this.#batch.head;
    if (head.controller === null) {
      head.controller = new AbortController();
      if (head.released) head.controller.abort(new ConsumerStoppingError());
    }
    return head.controller.signal;
  }

  /**
   * Not offered in batch handlers: a batch is acked in one batched XACK, not one script per message,
   * so its outputs could not be written exactly once with it. Throws a `TypeError` that says so.
   */
  publish(): void {
    throw new TypeError(
      `ctx.publish is not available in batch handlers (router.batch('${this.#batch.type}')): a batch is acked in one XACK, so its outputs cannot be written with each message's ack; use publish() (at least once) or handle the type with router.on`,
    );
  }

  get log(): Logger {
    this.#log ??= this.#batch.deps.logger.child({
      messageType: this.#batch.type,
      firstMessageId: this.#firstId,
      batchSize: this.#size,
    });
    return this.#log;
  }
}
