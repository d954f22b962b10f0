import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { consumerMachine } from '../../src/machines/consumer-machine.js';
import { dispatchWorkerMachine } from '../../src/machines/dispatch-worker-machine.js';
import { supervisorMachine } from '../../src/machines/supervisor-machine.js';
import {
  rowsMissing,
  sortRows,
  stateShape,
  type TransitionRow,
  transitionTable,
} from '../helpers/transition-table.js';

// Hand-written transition tables, written from the specs in prose at the head of each machine's file
// and checked against the machine definitions themselves, in both directions: every row here must
// exist in the machine, and every transition of the machine must be a row here, in the same order of
// guards. Unlike the model-based tests (machine-paths.test.ts), whose expected paths come from the
// machine they test, these catch a transition sent to the wrong state: change a transition, and this
// table has to be changed with it, on purpose.
//
// Row: [state, event, guard, target, actions]; see TransitionRow in test/helpers/transition-table.ts.
// `(any)` is a transition on the root (from every state that does not handle the event itself).

const CONSUMER: readonly TransitionRow[] = [
  // stop from anywhere: drain (with the deadline it brings); a NOGROUP / fatal error from the I/O
  // session (acks, claims, ownership) ends the incarnation the same way.
  ['(any)', 'stop', '', 'draining', 'assign'],
  ['(any)', 'io.failed', '', 'draining', 'failFromIo'],
  // runtime.setConcurrency, in any state: spawn the missing workers and tell the session (resize);
  // the workers its pool retired (idle, above the concurrency) are stopped.
  ['(any)', 'concurrency.set', '', '', 'enqueueActions, resize'],
  ['(any)', 'io.workers.retired', '', '', 'enqueueActions'],
  // creatingGroup: → recovering when recovery is due (always on a fresh start), else → polling;
  // a connection error → backoff; anything else (incl. NOGROUP, which MKSTREAM cannot raise) → draining.
  [
    'creatingGroup',
    'done:createGroup',
    'recoveryDue(event)',
    'recovering',
    'recordGroup, report(group.created)',
  ],
  ['creatingGroup', 'done:createGroup', '', 'polling', 'recordGroup, report(group.created)'],
  ['creatingGroup', 'error:createGroup', 'isRetriable', 'backoff', 'recordError'],
  ['creatingGroup', 'error:createGroup', '', 'draining', 'fail'],
  // recovering: → polling; NOGROUP → draining (exit nogroup); connection error → backoff; else → draining.
  ['recovering', 'done:recover', '', 'polling', 'assign'],
  ['recovering', 'error:recover', 'isNoGroup', 'draining', 'failNoGroup'],
  ['recovering', 'error:recover', 'isRetriable', 'backoff', 'recordError'],
  ['recovering', 'error:recover', '', 'draining', 'fail'],
  // polling: the read loop's first read (tell the supervisor once it is healthy, then record the
  // newest id) stays while the loop goes on; its last read (not ready: workers busy or a recovery
  // due) → dispatching; a failure records the newest id the loop read, then NOGROUP → draining, never
  // backoff; connection error → backoff; else → draining.
  ['polling', 'io.read.done', 'readAgain', '', 'enqueueActions, recordRead'],
  ['polling', 'io.read.done', '', 'dispatching', 'enqueueActions, recordRead'],
  ['polling', 'io.read.failed', 'isNoGroup', 'draining', 'recordLastId, failNoGroup'],
  ['polling', 'io.read.failed', 'isRetriable', 'backoff', 'recordLastId, recordError'],
  ['polling', 'io.read.failed', '', 'draining', 'recordLastId, fail'],
  // dispatching: free workers → recovering when claim.intervalMs has passed, else → polling.
  ['dispatching', 'io.capacity', 'recoveryDue(event)', 'recovering', ''],
  ['dispatching', 'io.capacity', '', 'polling', ''],
  // backoff: after backoffDelay → creatingGroup (idempotent).
  ['backoff', 'after:backoffDelay', '', 'creatingGroup', ''],
  // draining: ignores a second stop or error; when drained (recording the newest id read) → exited
  // after an error, else → stopped.
  ['draining', 'stop', '', '', ''],
  ['draining', 'io.failed', '', '', ''],
  ['draining', 'done:drain', 'exiting', 'exited', 'recordLastId'],
  ['draining', 'done:drain', '', 'stopped', 'recordLastId'],
  ['draining', 'error:drain', 'exiting', 'exited', ''],
  ['draining', 'error:drain', '', 'stopped', ''],
];

const CONSUMER_SHAPE = {
  '(root)': 'compound',
  '(root).initial': 'creatingGroup',
  creatingGroup: 'atomic',
  recovering: 'atomic',
  polling: 'atomic',
  dispatching: 'atomic',
  backoff: 'atomic',
  draining: 'atomic',
  stopped: 'final',
  exited: 'final',
};

const SUPERVISOR: readonly TransitionRow[] = [
  // running: stop → stopping.
  ['running', 'stop', '', 'stopping', ''],
  // A child that stopped normally is only recorded; one that exited (nogroup, fatal) or errored is
  // recorded and → failed when it passes maxRestarts in the window, else its restart is scheduled.
  ['running', 'done:*', 'stoppedNormally', '', 'recordEnd, report(exited)'],
  ['running', 'done:*', 'restartLimitReached', 'failed', 'recordEnd, report(exited), recordFailure'],
  ['running', 'done:*', '', '', 'recordEnd, report(exited), scheduleRestart, report(restart.scheduled)'],
  ['running', 'error:*', 'restartLimitReached', 'failed', 'recordEnd, report(exited), recordFailure'],
  ['running', 'error:*', '', '', 'recordEnd, report(exited), scheduleRestart, report(restart.scheduled)'],
  // The scheduled restart spawns the next incarnation; the sliding window forgets one restart per
  // period; healthy arms the stable timer, whose expiry resets the child's backoff.
  ['running', 'restart', '', '', 'enqueueActions, report(restarted)'],
  ['running', 'window.expire', '', '', 'assign'],
  ['running', 'consumer.healthy', '', '', 'enqueueActions'],
  ['running', 'child.stable', '', '', 'assign'],
  // setConcurrency: the child's spec keeps the new count (a restart uses it); the live child gets it.
  ['running', 'concurrency.set', '', '', 'enqueueActions'],
  // stopping: children end and are recorded (never restarted); → stopped when none is live.
  ['stopping', 'done:*', '', '', 'recordEnd, report(exited)'],
  ['stopping', 'error:*', '', '', 'recordEnd, report(exited)'],
  ['stopping', 'always', 'noneLive', 'stopped', ''],
];

const SUPERVISOR_SHAPE = {
  '(root)': 'compound',
  '(root).initial': 'running',
  running: 'atomic',
  stopping: 'atomic',
  stopped: 'final',
  failed: 'final',
};

const WORKER: readonly TransitionRow[] = [
  // idle: run { job } → running, attempt 1. A busy period (the next queued message taken in place after
  // a success) is no transition: only `run` in and `handler.settled` out appear here.
  ['idle', 'run', '', 'running', 'assign'],
  // running: abort aborts the attempt's signal and waits for the handlers to settle. Outcomes, in this
  // order: ok → idle (complete: the id goes to the ack batcher); released → idle (stays pending); dead
  // → deadLettering; failed with attempts left → retrying; failed on the last attempt → scheduling
  // with a retry scheduler, else → deadLettering (handler-error).
  ['running', 'abort', '', '', 'abortAttempt'],
  ['running', 'handler.settled', 'inline', 'idle', 'complete, clearJob'],
  ['running', 'handler.settled', 'inline', 'idle', 'release, clearJob'],
  ['running', 'handler.settled', 'inline', 'deadLettering', 'assign'],
  ['running', 'handler.settled', 'attemptsLeft', 'retrying', 'assign, recordRetry'],
  ['running', 'handler.settled', 'hasScheduler', 'scheduling', 'assign'],
  ['running', 'handler.settled', '', 'deadLettering', 'assign'],
  // retrying: after retryDelay → running with attempt + 1; abort → idle (released, stays pending).
  ['retrying', 'after:retryDelay', '', 'running', 'assign'],
  ['retrying', 'abort', '', 'idle', 'release, clearJob'],
  // deadLettering: written → idle; the write failed → idle, released (comes back later).
  ['deadLettering', 'done:deadLetter', '', 'idle', 'recordDeadLetter, clearJob'],
  ['deadLettering', 'error:deadLetter', '', 'idle', 'recordDeadLetterFailed, release, clearJob'],
  // scheduling: scheduled → idle; the scheduler failed → deadLettering (handler-error).
  ['scheduling', 'done:scheduleRetry', '', 'idle', 'recordScheduled, clearJob'],
  ['scheduling', 'error:scheduleRetry', '', 'deadLettering', 'assign'],
];

const WORKER_SHAPE = {
  '(root)': 'compound',
  '(root).initial': 'idle',
  idle: 'atomic',
  running: 'atomic',
  retrying: 'atomic',
  deadLettering: 'atomic',
  scheduling: 'atomic',
};

function expectTable(machine: AnyStateMachine, table: readonly TransitionRow[]): void {
  const actual = transitionTable(machine);
  expect(rowsMissing(table, actual), 'rows of the table the machine does not have').toEqual([]);
  expect(rowsMissing(actual, table), 'transitions of the machine the table does not have').toEqual([]);
  // Same rows: now the order of the guards tried for one (state, event).
  expect(actual).toEqual(sortRows(table));
}

describe('transition tables, checked against the machine definitions', () => {
  it('consumer', () => {
    expectTable(consumerMachine, CONSUMER);
    expect(stateShape(consumerMachine)).toEqual(CONSUMER_SHAPE);
  });

  it('supervisor', () => {
    expectTable(supervisorMachine, SUPERVISOR);
    expect(stateShape(supervisorMachine)).toEqual(SUPERVISOR_SHAPE);
  });

  it('dispatch worker (busy periods included)', () => {
    expectTable(dispatchWorkerMachine, WORKER);
    expect(stateShape(dispatchWorkerMachine)).toEqual(WORKER_SHAPE);
  });
});
