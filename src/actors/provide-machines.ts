import { fromPromise } from 'xstate';
import type { Clock } from '../clock.js';
import { ConsumerStoppingError } from '../errors/consumer-stopping-error.js';
import { type ConsumerContext, consumerMachine, type SessionInput } from '../machines/consumer-machine.js';
import {
  type DeadLetterInput,
  dispatchWorkerMachine,
  type ScheduleRetryInput,
  type WorkerContext,
  type WorkerJob,
} from '../machines/dispatch-worker-machine.js';
import {
  type ReportKind,
  type SupervisorContext,
  supervisorMachine,
} from '../machines/supervisor-machine.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import { ConsumerIo } from './consumer/consumer-io.js';
import { ioLogic, sessionOf } from './consumer/io-actor.js';
import type { ConsumerDeps } from './consumer-deps.js';
import { type DispatchJob, jobOf } from './dispatch/dispatch-job.js';
import {
  canSchedule,
  reportDeadLetter,
  reportRetry,
  reportScheduled,
  scheduleRetry,
  writeDeadLetter,
} from './retry/failure-path.js';

/** What the machines' named actions and actors are wired to. */
export interface MachineWiring {
  storage: StreamStorage;
  clock: Clock;
  /** Per-consumer dependencies of a new incarnation's session. */
  sessionDeps(consumerId: string): ConsumerDeps;
  onConsumerReport(context: ConsumerContext, kind: 'group.created' | 'backoff' | 'draining'): void;
  onSupervisorReport(context: SupervisorContext, event: { type: string }, kind: ReportKind): void;
}

/** The job of a failure actor's input, while still in flight; else the actor fails (→ release). */
function requireJob(job: WorkerJob): DispatchJob {
  const found = jobOf(job);
  if (!found) throw new Error(`Message ${job.id} is no longer in flight; the consumer was stopped`);
  return found;
}

/**
 * Provide the pure machines with their I/O: the supervisor logic the runtime runs. A worker's actions
 * work on its context's job (`jobOf` narrows it to the runtime's job, which knows its pool); the
 * consumer's actors reach the incarnation's session through the actor tree (`sessionOf`: the
 * consumer's `io` child).
 */
export function provideMachines(wiring: MachineWiring) {
  const failureInput = (context: WorkerContext) => ({
    session: context.session,
    job: context.job!,
    error: context.lastError ?? '',
    attempt: context.attempt,
  });

  const worker = dispatchWorkerMachine.provide({
    actions: {
      startAttempt: ({ context, self }) => {
        const job = jobOf(context.job);
        job?.pool.start(self, job, context.attempt);
      },
      abortAttempt: ({ context }) => jobOf(context.job)?.controller?.abort(new ConsumerStoppingError()),
      complete: ({ context }) => {
        const job = jobOf(context.job);
        job?.pool.complete(job);
      },
      release: ({ context }) => {
        const job = jobOf(context.job);
        job?.trace?.released();
        job?.pool.finish(job);
      },
      recordRetry: ({ context }) => {
        const job = jobOf(context.job);
        if (job) reportRetry(job.deps, job, context.attempt, context.retryDelayMs, context.lastError ?? '');
      },
      recordDeadLetter: ({ context, event }) => {
        const job = jobOf(context.job);
        if (!job) return;
        const input: DeadLetterInput = {
          ...failureInput(context),
          reason: context.deadReason ?? 'handler-error',
        };
        reportDeadLetter(job.deps, job, input, 'output' in event ? String(event.output) : '');
        job.pool.finish(job);
      },
      recordScheduled: ({ context, event }) => {
        const job = jobOf(context.job);
        if (!job) return;
        reportScheduled(job.deps, job, failureInput(context), 'output' in event ? Number(event.output) : 0);
        job.pool.finish(job);
      },
    },
    guards: {
      // A configured scheduler takes the message only while its x-retry-attempt is under the limit.
      hasScheduler: ({ context }) => {
        const job = jobOf(context.job);
        return context.hasScheduler && job !== undefined && canSchedule(job.deps, job);
      },
    },
    actors: {
      deadLetter: fromPromise<string, DeadLetterInput>(async ({ input }) => {
        const job = requireJob(input.job);
        return writeDeadLetter(job.deps, job, input);
      }),
      scheduleRetry: fromPromise<number, ScheduleRetryInput>(async ({ input }) => {
        const job = requireJob(input.job);
        return scheduleRetry(job.deps, job);
      }),
    },
  });

  const requireSession = (ref: Parameters<typeof sessionOf>[0]): ConsumerIo => {
    const session = sessionOf(ref);
    if (!session) throw new Error('No I/O session; the consumer was stopped');
    return session;
  };

  const consumer = consumerMachine.provide({
    actors: {
      worker,
      session: ioLogic(
        (input, system, sendBack) =>
          new ConsumerIo(wiring.sessionDeps(input.id), input.session, system, sendBack),
      ),
      createGroup: fromPromise(
        async ({ input }: { input: { stream: string; group: string; startId: string } }) => ({
          created: await wiring.storage.ensureGroup(input.stream, input.group, input.startId),
          now: wiring.clock.now(),
        }),
      ),
      recover: fromPromise(
        ({
          signal,
          self,
        }: {
          input: SessionInput;
          signal: AbortSignal;
          self: Parameters<typeof sessionOf>[0];
        }) => requireSession(self).recover(signal),
      ),
      drain: fromPromise(
        ({
          input,
          self,
        }: {
          input: SessionInput & { timeoutMs: number | null };
          self: Parameters<typeof sessionOf>[0];
        }) => requireSession(self).drain(input.timeoutMs),
      ),
    },
    actions: {
      report: ({ context }, params) => wiring.onConsumerReport(context, params.kind),
      read: ({ self }) => sessionOf(self)?.read(),
      awaitCapacity: ({ self }) => sessionOf(self)?.awaitCapacity(),
    },
  });

  const supervisor = supervisorMachine.provide({
    actors: { consumer },
    actions: {
      report: ({ context, event }, params) => wiring.onSupervisorReport(context, event, params.kind),
    },
  });

  return { supervisor };
}
