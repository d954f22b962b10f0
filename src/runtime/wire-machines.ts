import { type AnyActorRef, fromCallback, fromPromise } from 'xstate';
import type { Clock } from '../clock.js';
import { ConsumerSession } from '../consumer/consumer-session.js';
import type { SessionDeps } from '../consumer/session-deps.js';
import type { DispatchJob } from '../dispatch/dispatch-job.js';
import { ConsumerStoppingError } from '../errors/consumer-stopping-error.js';
import { exponentialDelay, restartDelay } from '../machines/backoff.js';
import { type ConsumerContext, consumerMachine, type SessionInput } from '../machines/consumer-machine.js';
import {
  type DeadLetterInput,
  dispatchWorkerMachine,
  type ScheduleRetryInput,
  type WorkerContext,
} from '../machines/dispatch-worker-machine.js';
import {
  type ReportKind,
  type SupervisorContext,
  supervisorMachine,
} from '../machines/supervisor-machine.js';
import type { StreamStorage } from '../storage/stream-storage.js';

/** What the machines' named actions and actors are wired to. */
export interface MachineWiring {
  storage: StreamStorage;
  clock: Clock;
  random: () => number;
  /** Per-consumer dependencies of a new incarnation's session. */
  sessionDeps(consumerId: string): SessionDeps;
  onConsumerReport(context: ConsumerContext, kind: 'group.created' | 'backoff' | 'draining'): void;
  onSupervisorReport(context: SupervisorContext, event: { type: string }, kind: ReportKind): void;
}

/**
 * Provide the pure machines with their I/O: the supervisor logic the runtime runs. Sessions are
 * looked up by the incarnation id every consumer and worker carries in its context.
 */
export function wireMachines(wiring: MachineWiring) {
  const sessions = new Map<string, ConsumerSession>();
  const sessionOf = (id: string): ConsumerSession | undefined => sessions.get(id);
  const ownerOf = (job: unknown, context: WorkerContext) => (job ? sessionOf(context.session) : undefined);

  const worker = dispatchWorkerMachine.provide({
    actions: {
      startAttempt: ({ context, self }) =>
        ownerOf(context.job, context)?.runAttempt(
          context.job as DispatchJob,
          context.attempt,
          self as AnyActorRef,
        ),
      abortAttempt: ({ context }) =>
        (context.job as DispatchJob | null)?.controller?.abort(new ConsumerStoppingError()),
      complete: ({ context }) => ownerOf(context.job, context)?.complete(context.job as DispatchJob),
      release: ({ context }) => ownerOf(context.job, context)?.release(context.job as DispatchJob),
      recordRetry: ({ context }) =>
        ownerOf(context.job, context)?.retrying(
          context.job as DispatchJob,
          context.attempt,
          context.lastError ?? '',
        ),
      recordDeadLetter: ({ context, event }) => {
        const input: DeadLetterInput = {
          session: context.session,
          job: context.job!,
          reason: context.deadReason ?? 'handler-error',
          error: context.lastError ?? '',
          attempt: context.attempt,
        };
        const output = 'output' in event ? String(event.output) : '';
        ownerOf(context.job, context)?.deadLettered(input, output);
      },
      recordScheduled: ({ context, event }) =>
        ownerOf(context.job, context)?.scheduled(
          {
            session: context.session,
            job: context.job!,
            error: context.lastError ?? '',
            attempt: context.attempt,
          },
          'output' in event ? Number(event.output) : 0,
        ),
    },
    guards: {
      // A configured scheduler takes the message only while its x-retry-attempt is under the limit.
      hasScheduler: ({ context }) =>
        context.hasScheduler &&
        (ownerOf(context.job, context)?.canSchedule(context.job as DispatchJob) ?? false),
    },
    actors: {
      deadLetter: fromPromise<string, DeadLetterInput>(async ({ input }) => {
        return requireSession(sessions, input.session).deadLetter(input);
      }),
      scheduleRetry: fromPromise<number, ScheduleRetryInput>(({ input }) =>
        requireSession(sessions, input.session).scheduleRetry(input),
      ),
    },
    delays: {
      // The session picked the delay when the worker entered `retrying` (and reported it).
      retryDelay: ({ context }) =>
        (context.job as DispatchJob | null)?.retryDelayMs ??
        exponentialDelay(context.attempt, context.retry, wiring.random),
    },
  });

  const consumer = consumerMachine.provide({
    actors: {
      worker,
      session: fromCallback<{ type: string }, SessionInput>(({ input, sendBack, system }) => {
        const session = new ConsumerSession(wiring.sessionDeps(input.id), input.session, system, sendBack);
        sessions.set(input.session, session);
        return () => {
          session.dispose();
          sessions.delete(input.session);
        };
      }),
      createGroup: fromPromise(
        async ({ input }: { input: { stream: string; group: string; startId: string } }) => ({
          created: await wiring.storage.ensureGroup(input.stream, input.group, input.startId),
          now: wiring.clock.now(),
        }),
      ),
      recover: fromPromise(({ input, signal }: { input: SessionInput; signal: AbortSignal }) =>
        requireSession(sessions, input.session).recover(signal),
      ),
      poll: fromPromise(({ input, signal }: { input: SessionInput; signal: AbortSignal }) =>
        requireSession(sessions, input.session).poll(signal),
      ),
      drain: fromPromise(({ input }: { input: SessionInput & { timeoutMs: number | null } }) =>
        requireSession(sessions, input.session).drain(input.timeoutMs),
      ),
    },
    actions: {
      report: ({ context }, params) => wiring.onConsumerReport(context, params.kind),
      awaitCapacity: ({ context }) => sessions.get(context.session)?.awaitCapacity(),
    },
    delays: {
      backoffDelay: ({ context }) => exponentialDelay(context.backoffAttempt, context.backoff, wiring.random),
    },
  });

  const supervisor = supervisorMachine.provide({
    actors: { consumer },
    actions: {
      report: ({ context, event }, params) => wiring.onSupervisorReport(context, event, params.kind),
    },
    delays: {
      restartDelay: ({ context, event }) => {
        const id = (event as { actorId?: string }).actorId ?? '';
        return restartDelay(context.attempts[id] ?? 0, context.backoff, wiring.random);
      },
    },
  });

  return { supervisor, sessions };
}

function requireSession(sessions: Map<string, ConsumerSession>, id: string): ConsumerSession {
  const session = sessions.get(id);
  if (!session) throw new Error(`No I/O session "${id}"; the consumer was stopped`);
  return session;
}
