import type { Logger } from 'pino';
import type { StreamEntry } from '../../storage/stream-storage.js';

// A failing handler must not be silent at the default level (`warn`): a retry is logged at `warn`,
// a dead letter at `error`. Each line says which message failed and why (id, type, stream, group,
// attempt, error) and never carries the payload, which may hold personal data. The consumer's
// logger already binds `stream`, `group`, `consumer` and `consumerId`; they are not repeated here
// (pino would print them twice).

/** The message a failure log line is about: its entry, and its type once decoded. */
export interface FailedMessage {
  readonly id: string;
  readonly entry: StreamEntry;
  readonly message: { readonly type: string } | null;
}

function typeOf(job: FailedMessage): string | null {
  return job.message?.type ?? job.entry.fields.type ?? null;
}

/**
 * Log that attempt `attempt` of a message failed and it will run again: in process after
 * `delayMs`, or through the retry scheduler (`retryAttempt` set).
 *
 * @example
 * logRetry(logger, job, { attempt: 1, error: 'timeout', delayMs: 200 })
 */
export function logRetry(
  logger: Logger,
  job: FailedMessage,
  retry: { attempt: number; error: string; delayMs: number; retryAttempt?: number; inPlace?: boolean },
): void {
  logger.warn(
    {
      messageId: job.id,
      messageType: typeOf(job),
      attempt: retry.attempt,
      error: retry.error,
      delayMs: retry.delayMs,
      ...(retry.retryAttempt === undefined ? {} : { retryAttempt: retry.retryAttempt }),
    },
    retry.retryAttempt === undefined
      ? 'handler failed; retrying in process'
      : retry.inPlace === true
        ? 'handler failed; retrying in place after the scheduled delay (its ordering key waits)'
        : 'handler failed; handed to the retry scheduler',
  );
}

/**
 * Log that a message was dead-lettered, with the reason and the error that ended it.
 *
 * @example
 * logDeadLetter(logger, job, { attempt: 3, reason: 'handler-error', error: 'boom', deadLetterId: '1-0' })
 */
export function logDeadLetter(
  logger: Logger,
  job: FailedMessage,
  dead: { attempt: number; reason: string; error: string; deadLetterId: string },
): void {
  logger.error(
    {
      messageId: job.id,
      messageType: typeOf(job),
      attempt: dead.attempt,
      reason: dead.reason,
      error: dead.error,
      deliveries: job.entry.deliveries,
      deadLetterId: dead.deadLetterId,
    },
    'message dead-lettered',
  );
}
