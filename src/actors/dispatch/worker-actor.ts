import { fromPromise } from 'xstate';
import { ConsumerStoppingError } from '../../errors/consumer-stopping-error.js';
import {
  type DeadLetterInput,
  dispatchWorkerMachine,
  type ScheduleRetryInput,
  type WorkerContext,
  type WorkerJob,
} from '../../machines/dispatch-worker-machine.js';
import {
  canSchedule,
  reportDeadLetter,
  reportDeadLetterFailed,
  reportRetry,
  reportScheduled,
  retriesInPlace,
  scheduleRetry,
  writeDeadLetter,
} from '../retry/failure-path.js';
import { batchCanSchedule, deadLetterBatch, reportBatchRetry, scheduleBatch } from './batch-failure.js';
import type { DispatchJob } from './dispatch-job.js';
import { jobOf, WorkerSlot } from './worker-slot.js';

/** The job in a failure actor's input, while still in flight; else the actor fails (→ release). */
function requireJob(slot: WorkerJob): DispatchJob {
  const found = jobOf(slot);
  if (!found) throw new Error(`Message ${slot.id} is no longer in flight; the consumer was stopped`);
  return found;
}

function failureInput(context: WorkerContext, job: WorkerJob) {
  return { session: context.session, job, error: context.lastError ?? '', attempt: context.attempt };
}

/**
 * The dispatch worker machine with its I/O: each named action goes straight to the pool that owns the
 * worker's slot (`jobOf(context.job)`: the message in the slot, which knows its pool), or to the
 * failure path (src/actors/retry/failure-path.ts). See docs/architecture.md, "One message, from read
 * to ack".
 */
export const workerLogic = dispatchWorkerMachine.provide({
  actions: {
    startAttempt: ({ context }) => {
      const job = jobOf(context.job);
      if (job !== undefined && context.job instanceof WorkerSlot)
        job.pool.start(context.job, job, context.attempt);
    },
    abortAttempt: ({ context }) => jobOf(context.job)?.controller?.abort(new ConsumerStoppingError()),
    complete: ({ context }) => {
      const job = jobOf(context.job);
      // A batch acks all its messages at once (one XACK), then its worker takes the next job.
      if (job?.batch) {
        job.batch.complete();
        job.pool.finish(job);
      } else job?.pool.complete(job);
    },
    release: ({ context }) => {
      const job = jobOf(context.job);
      job?.trace?.released();
      job?.pool.finish(job);
    },
    recordRetry: ({ context }) => {
      const job = jobOf(context.job);
      if (job?.batch)
        reportBatchRetry(job.batch, context.attempt, context.retryDelayMs, context.lastError ?? '');
      else if (job)
        reportRetry(job.deps, job, context.attempt, context.retryDelayMs, context.lastError ?? '');
    },
    recordDeadLetter: ({ context, event }) => {
      const job = jobOf(context.job);
      if (!job) return;
      if (job.batch) return job.pool.finish(job); // each message was reported as its write landed
      const input: DeadLetterInput = {
        ...failureInput(context, job),
        reason: context.deadReason ?? 'handler-error',
      };
      reportDeadLetter(job.deps, job, input, 'output' in event ? String(event.output) : '');
      job.pool.finish(job);
    },
    recordDeadLetterFailed: ({ context, event }) => {
      const job = jobOf(context.job);
      if (!job || job.batch) return; // no longer in flight (nothing written), or a batch (reported per message)
      const input: DeadLetterInput = {
        ...failureInput(context, job),
        reason: context.deadReason ?? 'handler-error',
      };
      reportDeadLetterFailed(job.deps, job, input, 'error' in event ? event.error : undefined);
    },
    recordScheduled: ({ context, event }) => {
      const job = jobOf(context.job);
      if (!job) return;
      if (job.batch) return job.pool.finish(job); // each message was reported as its write landed
      const delayMs = 'output' in event ? Number(event.output) : 0;
      reportScheduled(job.deps, job, failureInput(context, job), delayMs);
      // Retried in place: it stays pending and holds its ordering key meanwhile.
      if (retriesInPlace(job)) job.pool.park(job, delayMs);
      else job.pool.finish(job);
    },
  },
  guards: {
    // A configured scheduler takes the message only while its x-retry-attempt is under the limit.
    hasScheduler: ({ context }) => {
      const job = jobOf(context.job);
      if (job?.batch) return context.hasScheduler && batchCanSchedule(job.batch);
      return context.hasScheduler && job !== undefined && canSchedule(job.deps, job);
    },
  },
  actors: {
    deadLetter: fromPromise<string, DeadLetterInput>(async ({ input }) => {
      const job = requireJob(input.job);
      return job.batch ? deadLetterBatch(job.batch, input) : writeDeadLetter(job.deps, job, input);
    }),
    scheduleRetry: fromPromise<number, ScheduleRetryInput>(async ({ input }) => {
      const job = requireJob(input.job);
      return job.batch
        ? scheduleBatch(job.batch, { ...input, reason: 'handler-error' })
        : scheduleRetry(job.deps, job);
    }),
  },
});
