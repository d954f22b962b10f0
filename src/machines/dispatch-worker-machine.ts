/**
 * # Dispatch worker machine
 *
 * One of a consumer's fixed pool of workers (`w0 … wN-1`). It runs one message at a time, every
 * message is handled while it is `running`, and it owns that message's failure path, so every retry
 * is a visible transition.
 *
 * - **idle**: free, nothing queued for it. `run { job }` → running, attempt 1.
 * - **running**: entry `startAttempt` runs the handlers that have not yet succeeded for `job` (the
 *   runner reports back with `handler.settled`). A **busy period**: while the consumer has more work
 *   queued for this worker, a successful message is acked and the worker takes the next one in place,
 *   without an event or a transition. The context's `job` is the worker's **job slot**, an object the
 *   pool owns and that this machine only reads: the pool moves the slot to the next message (attempt
 *   1) between two messages, so `job.id` is always the message the handlers are on, and no one writes
 *   into this context but this machine. A message that needed a retry ends its busy period (it reports
 *   `ok`), so `attempt` is always the attempt of the message in `job`. A busy period so costs two
 *   transitions however many messages it runs: `run` in, `handler.settled` out. Outcomes reported to
 *   the machine:
 *   - `ok` and nothing queued: every matching handler succeeded → idle, action `complete` (hands the
 *     id to the ack batcher: acking is batched across workers, so it is an action on this transition,
 *     not a state that would hold the worker for a round trip);
 *   - `failed` with attempts left → retrying;
 *   - `failed` on the last attempt → scheduling when a retry scheduler is configured (guard
 *     `hasScheduler`; the runtime also requires the message's `x-retry-attempt` to be under
 *     `retry.scheduled.attempts`), else deadLettering with reason `handler-error`;
 *   - `dead` (non-retryable error, bad input, unrouted by option, too many deliveries) → deadLettering;
 *   - `released` (aborted by a stop) → idle, action `release`: the message stays pending.
 *   `abort` aborts the running attempt's signal; the worker waits for the handlers to settle.
 * - **retrying**: waits the named delay `retryDelay` (exponential with jitter), then → running with
 *   attempt + 1. `abort` → idle (released, stays pending).
 * - **deadLettering**: invokes `deadLetter` (XADD to the dead-letter stream, then XACK). Done → idle
 *   (`recordDeadLetter`); error → idle (`recordDeadLetterFailed`, then `release`: the message stays
 *   pending and comes back later, to be dead-lettered with the same reason).
 * - **scheduling**: invokes `scheduleRetry` (durable delayed re-delivery, then XACK; a message with an
 *   ordering key is retried in place instead: no I/O, it stays pending and its pool holds it, and its
 *   key, for the delay). Done → idle (`recordScheduled`); error → deadLettering.
 *
 * After the failure path (idle again), the consumer sends `run` with its next queued message, if any.
 *
 * Pure: no I/O here. Every side effect is a named action or actor provided by the runtime (`src/actors/dispatch/worker-actor.ts`).
 */
import { assign, setup } from 'xstate';
import { type ExponentialBackoff, exponentialDelay, fullStep, type Random } from './backoff.js';
import { unprovided } from './unprovided.js';

/**
 * The worker's job slot: what the machine needs of the message it works on. The runtime's slot is an
 * object its pool owns (one per worker); during a busy period the pool moves it to the next message,
 * so `id` is always the message the handlers are on (see the spec above). The machine never writes it.
 */
export interface WorkerJob {
  readonly id: string;
}

/**
 * Every `x-dead-reason` the runtime writes (docs/errors.md, "Dead-letter reasons"); the CLI's
 * `--reason` accepts these only.
 *
 * @example
 * DEAD_REASONS.includes('handler-error') // true
 */
export const DEAD_REASONS = [
  'handler-error',
  'non-retryable',
  'max-deliveries',
  'missing-type',
  'malformed-payload',
  'malformed-encoding',
  'unrouted',
] as const;

/** Why a message went to the dead-letter stream: one of `DEAD_REASONS`. */
export type DeadReason = (typeof DEAD_REASONS)[number];

export interface WorkerInput {
  /** The consumer incarnation this worker belongs to. */
  session: string;
  workerId: string;
  /** Attempts in process before the message is scheduled or dead-lettered, ≥ 1. */
  attempts: number;
  retry: ExponentialBackoff;
  /** Whether a durable retry scheduler is configured. */
  hasScheduler: boolean;
  /** Jitter of the retry delay, in [0, 1). @default none (the full step) */
  random?: Random;
}

export interface WorkerContext extends WorkerInput {
  job: WorkerJob | null;
  attempt: number;
  /** Why the current job is being dead-lettered, and the error text. */
  deadReason: DeadReason | null;
  lastError: string | null;
  /** Backoff before the next attempt, ms: picked once on entering `retrying` (and reported as picked). */
  retryDelayMs: number;
}

/** Input of the `deadLetter` actor. */
export interface DeadLetterInput {
  session: string;
  job: WorkerJob;
  reason: DeadReason;
  error: string;
  attempt: number;
}

/** Input of the `scheduleRetry` actor. */
export interface ScheduleRetryInput {
  session: string;
  job: WorkerJob;
  error: string;
  attempt: number;
}

export type SettledEvent =
  | { type: 'handler.settled'; outcome: 'ok' }
  | { type: 'handler.settled'; outcome: 'failed'; error: string }
  | { type: 'handler.settled'; outcome: 'dead'; reason: DeadReason; error: string }
  | { type: 'handler.settled'; outcome: 'released' };

export type WorkerEvent = { type: 'run'; job: WorkerJob } | SettledEvent | { type: 'abort' };

/**
 * The job of a worker past `idle`: `run` sets it and only the way back to idle clears it, so the
 * failure path always has one. Throws (a bug in the machine, not a runtime failure) when it has not.
 */
function heldJob(context: WorkerContext): WorkerJob {
  if (context.job === null) throw new Error(`Dispatch worker ${context.workerId} has no job past idle`);
  return context.job;
}

export const dispatchWorkerMachine = setup({
  types: {
    context: {} as WorkerContext,
    input: {} as WorkerInput,
    events: {} as WorkerEvent,
  },
  actions: {
    startAttempt: () => {},
    abortAttempt: () => {},
    complete: () => {},
    release: () => {},
    recordRetry: () => {},
    recordDeadLetter: () => {},
    recordDeadLetterFailed: () => {},
    recordScheduled: () => {},
    clearJob: assign({ job: null }),
  },
  actors: {
    // Replaced by the runtime; these defaults fail loudly if a machine is run without I/O.
    deadLetter: unprovided<string, DeadLetterInput>("The dispatch worker's", 'deadLetter'),
    /** Resolves the delay (ms) after which the scheduler re-delivers the message. */
    scheduleRetry: unprovided<number, ScheduleRetryInput>("The dispatch worker's", 'scheduleRetry'),
  },
  guards: {
    attemptsLeft: ({ context }) => context.attempt < context.attempts,
    hasScheduler: ({ context }) => context.hasScheduler,
  },
  delays: {
    retryDelay: ({ context }) => context.retryDelayMs,
  },
}).createMachine({
  id: 'worker',
  initial: 'idle',
  context: ({ input }) => ({
    ...input,
    job: null,
    attempt: 0,
    deadReason: null,
    lastError: null,
    retryDelayMs: 0,
  }),
  states: {
    idle: {
      on: {
        run: {
          target: 'running',
          actions: assign(({ event }) => ({ job: event.job, attempt: 1, deadReason: null, lastError: null })),
        },
      },
    },
    running: {
      entry: 'startAttempt',
      on: {
        abort: { actions: 'abortAttempt' },
        'handler.settled': [
          { guard: ({ event }) => event.outcome === 'ok', target: 'idle', actions: ['complete', 'clearJob'] },
          {
            guard: ({ event }) => event.outcome === 'released',
            target: 'idle',
            actions: ['release', 'clearJob'],
          },
          {
            guard: ({ event }) => event.outcome === 'dead',
            target: 'deadLettering',
            actions: assign(({ event }) =>
              event.outcome === 'dead' ? { deadReason: event.reason, lastError: event.error } : {},
            ),
          },
          {
            guard: 'attemptsLeft',
            target: 'retrying',
            actions: [
              assign({
                lastError: ({ event }) => errorOf(event),
                retryDelayMs: ({ context }) =>
                  exponentialDelay(context.attempt, context.retry, context.random ?? fullStep),
              }),
              'recordRetry',
            ],
          },
          {
            guard: 'hasScheduler',
            target: 'scheduling',
            actions: assign({ lastError: ({ event }) => errorOf(event) }),
          },
          {
            target: 'deadLettering',
            actions: assign({ deadReason: 'handler-error', lastError: ({ event }) => errorOf(event) }),
          },
        ],
      },
    },
    retrying: {
      after: {
        retryDelay: { target: 'running', actions: assign({ attempt: ({ context }) => context.attempt + 1 }) },
      },
      on: { abort: { target: 'idle', actions: ['release', 'clearJob'] } },
    },
    deadLettering: {
      invoke: {
        id: 'deadLetter',
        src: 'deadLetter',
        input: ({ context }): DeadLetterInput => ({
          session: context.session,
          job: heldJob(context),
          reason: context.deadReason ?? 'handler-error',
          error: context.lastError ?? '',
          attempt: context.attempt,
        }),
        onDone: { target: 'idle', actions: ['recordDeadLetter', 'clearJob'] },
        onError: { target: 'idle', actions: ['recordDeadLetterFailed', 'release', 'clearJob'] },
      },
    },
    scheduling: {
      invoke: {
        id: 'scheduleRetry',
        src: 'scheduleRetry',
        input: ({ context }): ScheduleRetryInput => ({
          session: context.session,
          job: heldJob(context),
          error: context.lastError ?? '',
          attempt: context.attempt,
        }),
        onDone: { target: 'idle', actions: ['recordScheduled', 'clearJob'] },
        onError: {
          target: 'deadLettering',
          actions: assign({ deadReason: 'handler-error' }),
        },
      },
    },
  },
});

/** A dispatch worker actor, as the runtime addresses it. */
export interface WorkerRef {
  readonly id: string;
  send(event: WorkerEvent): void;
  getSnapshot(): { readonly value: unknown; readonly context: WorkerContext };
}

function errorOf(event: WorkerEvent): string {
  return event.type === 'handler.settled' && (event.outcome === 'failed' || event.outcome === 'dead')
    ? event.error
    : '';
}
