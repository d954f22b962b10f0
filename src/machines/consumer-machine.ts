/**
 * # Consumer machine
 *
 * One per (stream, group, consumer name). It owns the read loop and the lifecycle; the messages
 * themselves are run by its pool of dispatch workers (`w0 … wN-1`, spawned at start) and by its
 * I/O session (`io`, invoked for the machine's whole life: reads, dispatcher, ack batcher, ownership
 * timer).
 *
 * - **creatingGroup**: `XGROUP CREATE … MKSTREAM` at the last id this consumer saw (or the configured
 *   start id before it saw any), or at `0` below it when the stream's ids went backwards (`recordGroup`,
 *   src/actors/consumer/create-group.ts); an existing group is success. → recovering when recovery is
 *   due (always on a fresh start), else → polling.
 * - **recovering**: re-process this consumer's own pending entries, then walk `XAUTOCLAIM` (every
 *   page) for entries idle past `claim.minIdleMs`; recovered entries go to the workers as capacity
 *   allows. → polling.
 * - **polling**: entry `read` starts the `io` actor's read loop: `XREADGROUP … BLOCK blockMs` with
 *   COUNT ≤ free capacity, the batch handed to the workers, and the next read at once while enough
 *   workers are still free and no recovery is due. The loop answers `io.read.done` for its first read
 *   (the consumer is healthy: `recordRead`, stays polling while the loop goes on, output `ready`) and
 *   for the read after which it stops (not `ready`: → dispatching), or `io.read.failed`; the reads in
 *   between are no events (no transition, no actor per read). Every answer carries the newest id
 *   read (`lastId`).
 * - **dispatching**: waits for `io.capacity` (enough free workers), then → polling, or → recovering
 *   when `claim.intervalMs` has passed since the last recovery (checked between reads, so a read is
 *   never abandoned).
 * - **backoff**: a connection error in any of the above waits `backoffDelay` (exponential, capped,
 *   jittered), then → creatingGroup (which is idempotent). Handlers in flight keep running.
 * - **draining**: on `stop`, or on a NOGROUP / fatal error (from read, claim, ack, …): stop reading,
 *   let in-flight handlers finish (up to the stop deadline; then they are aborted and their messages
 *   stay pending), flush acks; the drain answers the newest id read (`recordLastId`). → stopped (after
 *   `stop`) or → exited (after an error).
 * - **stopped** (final): output `{ reason: 'stopped', lastId }`.
 * - **exited** (final): output `{ reason: 'nogroup' | 'fatal', error, lastId }`, for the supervisor
 *   (a restart creates the group at `lastId`).
 *
 * In any state, `concurrency.set` and `io.workers.retired` spawn and stop workers (consumer-workers.ts).
 * Reaching a final state stops the workers and the I/O session. Errors never escape as exceptions:
 * each invoke's `onError` (and `io.read.failed`) classifies the error by its `code` / `retriable`
 * fields. An `io.read.done` that arrives after a stop (the read was in flight) is ignored in draining:
 * what it read stays pending.
 */
import { type AnyActorLogic, assign, enqueueActions, fromCallback, setup } from 'xstate';
import { exponentialDelay, fullStep } from './backoff.js';
import { errorText, exitReasonOf, isNoGroup, isRetriable } from './classify-error.js';
import type {
  ConsumerContext,
  ConsumerEvent,
  ConsumerInput,
  ConsumerOutput,
  IoInput,
  IoStartInput,
} from './consumer-types.js';
import { resizeWorkers, spawnWorkers, stopRetired } from './consumer-workers.js';
import { dispatchWorkerMachine } from './dispatch-worker-machine.js';
import { lastIdOf, maxId, rewoundTo } from './ids.js';
import { unprovided } from './unprovided.js';

export type {
  ConsumerContext,
  ConsumerEvent,
  ConsumerInput,
  ConsumerOutput,
  IoInput,
  IoStartInput,
  ReadOutput,
} from './consumer-types.js';
export { MAX_CONCURRENCY, workerIndex } from './consumer-workers.js';
export { maxId, workerId, workerSystemId } from './ids.js';

/**
 * After a read: tell the supervisor the first time the consumer is healthy. Only with a parent: a
 * consumer run on its own (tests, tools) has no one to tell.
 */
function tellHealthy() {
  return enqueueActions<
    ConsumerContext,
    ConsumerEvent,
    undefined,
    ConsumerEvent,
    never,
    never,
    never,
    never,
    never
  >(({ context, enqueue, self }) => {
    if (!context.healthy && self._parent) enqueue.sendParent({ type: 'consumer.healthy', id: context.id });
  });
}

export const consumerMachine = setup({
  types: {
    context: {} as ConsumerContext,
    input: {} as ConsumerInput,
    events: {} as ConsumerEvent,
    output: {} as ConsumerOutput,
  },
  actors: {
    worker: dispatchWorkerMachine,
    // Any logic taking an IoStartInput: the runtime's keeps the incarnation's ConsumerIo in its snapshot.
    io: fromCallback<{ type: string }, IoStartInput>(() => () => {}) as AnyActorLogic,
    createGroup: unprovided<
      { created: boolean; now: number; rewoundTo?: string },
      { id: string; session: string; stream: string; group: string; startId: string; remembered: boolean }
    >("The consumer's", 'createGroup'),
    recover: unprovided<{ lastId: string | null; now: number }, IoInput>("The consumer's", 'recover'),
    /** Resolves the newest id the incarnation read. */
    drain: unprovided<{ lastId: string | null }, IoInput & { timeoutMs: number | null }>(
      "The consumer's",
      'drain',
    ),
  },
  actions: {
    report: (_, _params: { kind: 'group.created' | 'backoff' | 'draining' }) => {},
    /** Tells the I/O session to read once and answer `io.read.done` or `io.read.failed`. */
    read: () => {},
    /** Tells the I/O session to send `io.capacity` once enough workers are free. */
    awaitCapacity: () => {},
    /** Tells the I/O session the new `concurrency` (its pool retires the workers above it). */
    resize: () => {},
    recordError: assign({ error: ({ event }) => ('error' in event ? errorText(event.error) : null) }),
    fail: assign({
      exitReason: ({ event }) => ('error' in event ? exitReasonOf(event.error) : 'fatal'),
      error: ({ event }) => ('error' in event ? errorText(event.error) : null),
    }),
    failNoGroup: assign({
      exitReason: 'nogroup' as const,
      error: ({ event }) => ('error' in event ? errorText(event.error) : null),
    }),
    failFromIo: assign(({ event }) =>
      event.type === 'io.failed' ? { exitReason: event.reason, error: event.error } : {},
    ),
    /** A read is done: record the newest id; the consumer is healthy. */
    recordRead: assign(({ context, event }) => ({
      lastId: maxId(context.lastId, lastIdOf(event)),
      backoffAttempt: 0,
      error: null,
      healthy: true,
    })),
    /** The group was created at 0, below the last id seen (see createGroup): that id is behind us. */
    recordGroup: assign({ lastId: ({ context, event }) => rewoundTo(event) ?? context.lastId }),
    /** The read loop or the drain ended: record the newest id it read (a restart starts the group there). */
    recordLastId: assign({
      lastId: ({ context, event }) => maxId(context.lastId, lastIdOf(event)),
    }),
  },
  guards: {
    /** Recovery is due at `now` (the time the event carries: a group created, capacity freed). */
    recoveryDue: ({ context }, params: { now: number }) =>
      isRecoveryDue(context.lastRecoveryAt, params.now, context.claimIntervalMs),
    /** The read loop goes on (enough workers free, no recovery due): stay polling. */
    readAgain: ({ event }) => event.type === 'io.read.done' && event.output.ready,
    isNoGroup: ({ event }) => 'error' in event && isNoGroup(event.error),
    isRetriable: ({ event }) => 'error' in event && isRetriable(event.error),
    exiting: ({ context }) => context.exitReason !== null,
  },
  delays: {
    backoffDelay: ({ context }) =>
      exponentialDelay(context.backoffAttempt, context.backoff, context.random ?? fullStep),
  },
}).createMachine({
  id: 'consumer',
  context: ({ input }) => ({
    ...input,
    backoffAttempt: 0,
    lastRecoveryAt: null,
    exitReason: null,
    error: null,
    healthy: false,
    stopTimeoutMs: null,
    workers: [],
  }),
  entry: spawnWorkers,
  invoke: {
    id: 'io',
    src: 'io',
    input: ({ context }: { context: ConsumerContext }): IoStartInput => ({
      session: context.session,
      id: context.id,
      concurrency: context.concurrency,
    }),
  },
  output: ({ context }) => ({
    reason: context.exitReason ?? 'stopped',
    error: context.error,
    lastId: context.lastId,
  }),
  initial: 'creatingGroup',
  on: {
    stop: { target: '.draining', actions: assign({ stopTimeoutMs: ({ event }) => event.timeoutMs }) },
    'io.failed': { target: '.draining', actions: 'failFromIo' },
    'concurrency.set': { actions: [resizeWorkers, 'resize'] },
    'io.workers.retired': { actions: stopRetired },
  },
  states: {
    creatingGroup: {
      invoke: {
        id: 'createGroup',
        src: 'createGroup',
        input: ({ context: { id, session, stream, group, lastId, startId } }) => ({
          ...{ id, session, stream, group, startId: lastId ?? startId, remembered: lastId !== null },
        }),
        onDone: [
          {
            guard: { type: 'recoveryDue', params: ({ event }) => ({ now: event.output.now }) },
            target: 'recovering',
            actions: ['recordGroup', { type: 'report', params: { kind: 'group.created' } }],
          },
          {
            target: 'polling',
            actions: ['recordGroup', { type: 'report', params: { kind: 'group.created' } }],
          },
        ],
        onError: [
          { guard: 'isRetriable', target: 'backoff', actions: 'recordError' },
          { target: 'draining', actions: 'fail' },
        ],
      },
    },
    recovering: {
      invoke: {
        id: 'recover',
        src: 'recover',
        input: ({ context }) => ({ session: context.session, id: context.id }),
        onDone: {
          target: 'polling',
          actions: assign(({ context, event }) => ({
            lastRecoveryAt: event.output.now,
            lastId: maxId(context.lastId, event.output.lastId),
          })),
        },
        onError: [
          { guard: 'isNoGroup', target: 'draining', actions: 'failNoGroup' },
          { guard: 'isRetriable', target: 'backoff', actions: 'recordError' },
          { target: 'draining', actions: 'fail' },
        ],
      },
    },
    polling: {
      entry: 'read',
      on: {
        // The loop's first read (it goes on: stay polling), or its last (→ dispatching, to wait for
        // workers or to recover). Before `recordRead` sets `healthy`, tell the supervisor the first
        // time (sendParent, so it is delivered after this transition).
        'io.read.done': [
          { guard: 'readAgain', actions: [tellHealthy(), 'recordRead'] },
          { target: 'dispatching', actions: [tellHealthy(), 'recordRead'] },
        ],
        'io.read.failed': [
          { guard: 'isNoGroup', target: 'draining', actions: ['recordLastId', 'failNoGroup'] },
          { guard: 'isRetriable', target: 'backoff', actions: ['recordLastId', 'recordError'] },
          { target: 'draining', actions: ['recordLastId', 'fail'] },
        ],
      },
    },
    dispatching: {
      entry: 'awaitCapacity',
      on: {
        'io.capacity': [
          {
            guard: { type: 'recoveryDue', params: ({ event }) => ({ now: event.now }) },
            target: 'recovering',
          },
          { target: 'polling' },
        ],
      },
    },
    backoff: {
      entry: [
        assign({ backoffAttempt: ({ context }) => context.backoffAttempt + 1 }),
        { type: 'report', params: { kind: 'backoff' } },
      ],
      after: { backoffDelay: 'creatingGroup' },
    },
    draining: {
      entry: { type: 'report', params: { kind: 'draining' } },
      on: { stop: {}, 'io.failed': {} },
      invoke: {
        id: 'drain',
        src: 'drain',
        input: ({ context }) => ({
          session: context.session,
          id: context.id,
          timeoutMs: context.stopTimeoutMs,
        }),
        onDone: [
          { guard: 'exiting', target: 'exited', actions: 'recordLastId' },
          { target: 'stopped', actions: 'recordLastId' },
        ],
        onError: [{ guard: 'exiting', target: 'exited' }, { target: 'stopped' }],
      },
    },
    stopped: { type: 'final' },
    exited: { type: 'final' },
  },
});

/** Recovery is due: never ran in this incarnation, or `intervalMs` passed since it last ran. */
export function isRecoveryDue(lastRecoveryAt: number | null, now: number, intervalMs: number): boolean {
  return lastRecoveryAt === null || now - lastRecoveryAt >= intervalMs;
}
