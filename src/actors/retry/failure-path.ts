import { exponentialDelay } from '../../machines/backoff.js';
import { errorText } from '../../machines/classify-error.js';
import type { DeadLetterInput, ScheduleRetryInput } from '../../machines/dispatch-worker-machine.js';
import type { MessageTrace } from '../../telemetry/message-tracer.js';
import { deadLetterHeaders } from '../../wire/dead-letter-fields.js';
import { RETRY_ATTEMPT_FIELD, scheduledAttempts } from '../../wire/headers.js';
import type { ConsumerDeps } from '../consumer-deps.js';
import { type FailedMessage, logDeadLetter, logRetry } from './failure-log.js';

// The I/O and bookkeeping of a message's failure path, as the dispatch worker machine's states
// (retrying, deadLettering, scheduling) call for them: src/actors/dispatch/worker-actor.ts calls
// these directly.

/** The message on its failure path: a dispatch job, as far as this path needs it. */
export interface FailingMessage extends FailedMessage {
  /** Its span, when tracing is on. */
  readonly trace: MessageTrace | null;
  /** Its ordering key, when `orderingKey` gave it one. */
  readonly key: string | undefined;
}

/** Attempt `attempt` failed and another follows after `delayMs` (the worker picked it): count it, tell subscribers. */
export function reportRetry(
  deps: ConsumerDeps,
  job: FailingMessage,
  attempt: number,
  delayMs: number,
  error: string,
): void {
  const { spec, stats, bus, clock } = deps;
  stats.retried++;
  job.trace?.retrying(attempt, delayMs, error);
  logRetry(deps.logger, job, { attempt, error, delayMs });
  if (bus.active) {
    bus.emit({
      type: 'message.retrying',
      at: clock.now(),
      consumerId: spec.id,
      messageId: job.id,
      messageType: job.message?.type ?? null,
      attempt,
      delayMs,
      error,
    });
  }
}

/** XADD the dead letter (wire format) to the dead-letter stream, then XACK the source. Resolves its id. */
export function writeDeadLetter(
  deps: ConsumerDeps,
  job: FailingMessage,
  input: DeadLetterInput,
): Promise<string> {
  const { spec, storage, clock } = deps;
  const headers = deadLetterHeaders(job.entry, {
    reason: input.reason,
    error: input.error,
    sourceStream: spec.stream,
    group: spec.group,
    deliveries: job.entry.deliveries,
    at: clock.now(),
  });
  // With the headers apart, a storage of bytes can copy the original fields byte for byte when
  // they were not read as written (bytes that are not UTF-8: src/storage/redis/redis-exact-entries.ts).
  return storage.deadLetter({
    deadStream: spec.deadLetter.stream,
    sourceStream: spec.stream,
    group: spec.group,
    id: job.id,
    fields: { ...job.entry.fields, ...headers },
    headers,
    ...(spec.deadLetter.maxLen === undefined ? {} : { maxLen: spec.deadLetter.maxLen }),
  });
}

export function reportDeadLetter(
  deps: ConsumerDeps,
  job: FailingMessage,
  input: DeadLetterInput,
  deadLetterId: string,
): void {
  deps.deadLetterMemory.forget(job.id);
  deps.stats.recordDeadLetter(input.reason);
  job.trace?.deadLettered(input.reason, input.error, deps.spec.deadLetter.stream, deadLetterId);
  const { attempt, reason, error } = input;
  logDeadLetter(deps.logger, job, { attempt, reason, error, deadLetterId });
  if (deps.bus.active) {
    deps.bus.emit({
      type: 'message.dead-lettered',
      at: deps.clock.now(),
      consumerId: deps.spec.id,
      messageId: job.id,
      messageType: job.message?.type ?? null,
      reason: input.reason,
      error: input.error,
      deadLetterId,
    });
  }
}

/**
 * The dead-letter write failed: log it at error, count it, tell subscribers, and remember the reason,
 * so the message is dead-lettered for it when it comes back (it stays pending; see DeadLetterMemory).
 */
export function reportDeadLetterFailed(
  deps: ConsumerDeps,
  job: FailingMessage,
  input: DeadLetterInput,
  failure: unknown,
): void {
  const { reason, error } = input;
  deps.deadLetterMemory.remember(job.id, { reason, error });
  deps.stats.deadLetterFailures++;
  const text = errorText(failure);
  deps.logger.error(
    { messageId: job.id, deadStream: deps.spec.deadLetter.stream, reason, error, failure: text },
    'could not write the dead letter; the message stays pending and is dead-lettered with this reason when it comes back',
  );
  if (deps.bus.active) {
    deps.bus.emit({
      type: 'message.dead-letter-failed',
      at: deps.clock.now(),
      consumerId: deps.spec.id,
      messageId: job.id,
      reason,
      error,
      failure: text,
    });
  }
}

/**
 * Whether a message that used up its in-process attempts goes to the retry scheduler: one is
 * configured and the message's `x-retry-attempt` is below `retry.scheduled.attempts`.
 */
export function canSchedule(deps: ConsumerDeps, job: FailingMessage): boolean {
  return (
    deps.retryScheduler !== undefined && scheduledAttempts(job.entry) < deps.spec.retry.scheduled.attempts
  );
}

/**
 * Whether a message the retry scheduler would take is retried in place instead: it has an ordering
 * key. It then stays pending and keeps its key (later messages of the key wait behind it), and runs
 * again after the same delay, with the same `x-retry-attempt`, as its durable retry would; being
 * pending, it is re-processed first after a crash too (docs/scaling.md, "Ordered retries").
 */
export function retriesInPlace(job: FailingMessage): boolean {
  return job.key !== undefined;
}

/**
 * Hand the message to the retry scheduler with the next `x-retry-attempt` and that attempt's delay,
 * then ack the source; a message retried in place (`retriesInPlace`) is neither handed over nor
 * acked: its worker pool holds it for the delay. Resolves the delay, ms.
 */
export async function scheduleRetry(deps: ConsumerDeps, job: FailingMessage): Promise<number> {
  const { spec, storage, retryScheduler, random } = deps;
  if (retryScheduler === undefined) throw new Error('No retryScheduler configured');
  const next = scheduledAttempts(job.entry) + 1;
  const delayMs = exponentialDelay(next, spec.retry.scheduled.backoff, random);
  if (retriesInPlace(job)) return delayMs;
  const entry = { ...job.entry, fields: { ...job.entry.fields, [RETRY_ATTEMPT_FIELD]: String(next) } };
  await retryScheduler.schedule(spec.stream, entry, delayMs);
  await storage.ack(spec.stream, spec.group, [job.id]);
  return delayMs;
}

export function reportScheduled(
  deps: ConsumerDeps,
  job: FailingMessage,
  input: ScheduleRetryInput,
  delayMs: number,
): void {
  deps.stats.scheduled++;
  const retryAttempt = scheduledAttempts(job.entry) + 1;
  job.trace?.scheduled(retryAttempt, delayMs, input.error);
  const inPlace = retriesInPlace(job);
  logRetry(deps.logger, job, { attempt: input.attempt, error: input.error, delayMs, retryAttempt, inPlace });
  if (deps.bus.active) {
    deps.bus.emit({
      type: 'message.scheduled',
      at: deps.clock.now(),
      consumerId: deps.spec.id,
      messageId: job.id,
      messageType: job.message?.type ?? null,
      attempt: input.attempt,
      retryAttempt,
      delayMs,
      error: input.error,
      inPlace,
    });
  }
}
