/**
 * # Supervisor machine
 *
 * OTP `one_for_one` over the runtime's consumer machines, with Akka-style backoff between restarts.
 *
 * - **running**: every child is spawned on entry (incarnation 1). When a child ends with
 *   `exited` (`nogroup`, `fatal`) or errors, it is stopped and counted in a sliding window of
 *   `periodMs`; if that makes more than `maxRestarts` restarts in the window, → failed. Otherwise a
 *   `restart` is scheduled after `restartDelay` (`min(max, min × 2^n) × (1 + random × randomFactor)`,
 *   n = restarts of that child in a row) and the child comes back as a new incarnation that recreates
 *   its group at the last id it saw. A child that reports `consumer.healthy` and then stays up for
 *   `resetAfterMs` has its backoff reset. `concurrency.set { id, concurrency }` records the child's new
 *   concurrency in its spec (a restart keeps it) and forwards it to the live child.
 * - **stopping**: `stop` cancels pending restarts and asks every live child to drain; → stopped
 *   when none is left.
 * - **stopped** (final): output `{ reason: 'stopped' }`.
 * - **failed** (final, escalation): the restart limit was passed. Reaching it stops every child.
 *   Output `{ reason: 'failed', consumerId, error }`.
 *
 * Pure: lifecycle notifications go through the named action `report`, provided by the runtime.
 */
import { assertEvent, assign, cancel, enqueueActions, raise, setup, stopChild } from 'xstate';
import { type Random, type RestartBackoff, restartDelay } from './backoff.js';
import { errorText } from './classify-error.js';
import { type ConsumerInput, type ConsumerOutput, consumerMachine } from './consumer-machine.js';

export type ChildSpec = Omit<ConsumerInput, 'session' | 'lastId'>;

export interface SupervisorInput {
  children: ChildSpec[];
  /** Restarts allowed within `periodMs` before escalating. @default 5 */
  maxRestarts: number;
  /** @default 60000 */
  periodMs: number;
  backoff: RestartBackoff;
  /** A child up this long after reporting healthy has its backoff reset, ms. @default 10000 */
  resetAfterMs: number;
  /** Jitter of the restart delay, in [0, 1). @default none (no random factor) */
  random?: Random;
}

export interface SupervisorContext extends SupervisorInput {
  live: Record<string, boolean>;
  incarnations: Record<string, number>;
  /** Restarts in a row per child (reset after a stable period). */
  attempts: Record<string, number>;
  /** Total restarts per child. */
  restarts: Record<string, number>;
  lastIds: Record<string, string | null>;
  restartsInWindow: number;
  failure: { consumerId: string; reason: string; error: string | null } | null;
}

export interface SupervisorOutput {
  reason: 'stopped' | 'failed';
  consumerId: string | null;
  error: string | null;
}

export type ReportKind = 'exited' | 'restart.scheduled' | 'restarted' | 'failed';

export type SupervisorEvent =
  | { type: 'stop'; timeoutMs: number }
  | { type: 'restart'; id: string }
  | { type: 'window.expire' }
  | { type: 'consumer.healthy'; id: string }
  | { type: 'child.stable'; id: string }
  | { type: 'concurrency.set'; id: string; concurrency: number }
  | { type: `xstate.done.actor.${string}`; actorId: string; output: ConsumerOutput }
  | { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

/** Done/error events of children, matched by wildcard. */
type ChildEndEvent = { type: string; actorId: string; output?: ConsumerOutput; error?: unknown };

function ended(event: { type: string }): {
  id: string;
  reason: string;
  error: string | null;
  lastId: string | null;
} {
  const e = event as ChildEndEvent;
  if (e.type.startsWith('xstate.done.actor.')) {
    return {
      id: e.actorId,
      reason: e.output?.reason ?? 'stopped',
      error: e.output?.error ?? null,
      lastId: e.output?.lastId ?? null,
    };
  }
  return {
    id: e.actorId,
    reason: 'fatal',
    error: errorText(e.error),
    lastId: null,
  };
}

const exitedReport = { type: 'report', params: { kind: 'exited' } } as const;
const scheduledReport = { type: 'report', params: { kind: 'restart.scheduled' } } as const;

const noJitter: Random = () => 0;

function incarnationId(id: string, incarnation: number): string {
  return `${id}#${incarnation}`;
}

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    input: {} as SupervisorInput,
    events: {} as SupervisorEvent,
    output: {} as SupervisorOutput,
  },
  actors: { consumer: consumerMachine },
  actions: {
    report: (_, _params: { kind: ReportKind }) => {},
    recordEnd: enqueueActions(({ context, event, enqueue }) => {
      const end = ended(event);
      enqueue(stopChild(end.id));
      enqueue.assign({
        live: { ...context.live, [end.id]: false },
        lastIds: { ...context.lastIds, [end.id]: end.lastId ?? context.lastIds[end.id] ?? null },
      });
    }),
    recordFailure: assign({
      failure: ({ event }) => {
        const end = ended(event);
        return { consumerId: end.id, reason: end.reason, error: end.error };
      },
    }),
    scheduleRestart: enqueueActions(({ context, event, enqueue }) => {
      const { id } = ended(event);
      enqueue.assign({ restartsInWindow: context.restartsInWindow + 1 });
      enqueue(cancel(`stable-${id}`));
      enqueue(raise({ type: 'window.expire' }, { delay: 'period' }));
      enqueue(raise({ type: 'restart', id }, { delay: 'restartDelay', id: `restart-${id}` }));
    }),
  },
  guards: {
    stoppedNormally: ({ event }) => ended(event).reason === 'stopped',
    restartLimitReached: ({ context }) => context.restartsInWindow + 1 > context.maxRestarts,
    noneLive: ({ context }) => Object.values(context.live).every((live) => !live),
  },
  delays: {
    period: ({ context }) => context.periodMs,
    resetAfter: ({ context }) => context.resetAfterMs,
    restartDelay: ({ context, event }) =>
      restartDelay(context.attempts[ended(event).id] ?? 0, context.backoff, context.random ?? noJitter),
  },
})
  .createMachine({
    id: 'supervisor',
    context: ({ input }) => ({
      ...input,
      live: Object.fromEntries(input.children.map((c) => [c.id, false])),
      incarnations: Object.fromEntries(input.children.map((c) => [c.id, 0])),
      attempts: Object.fromEntries(input.children.map((c) => [c.id, 0])),
      restarts: Object.fromEntries(input.children.map((c) => [c.id, 0])),
      lastIds: Object.fromEntries(input.children.map((c) => [c.id, null])),
      restartsInWindow: 0,
      failure: null,
    }),
    output: ({ context }) => ({
      reason: context.failure ? 'failed' : 'stopped',
      consumerId: context.failure?.consumerId ?? null,
      error: context.failure?.error ?? null,
    }),
    initial: 'running',
    states: {
      running: {
        entry: enqueueActions(({ context, enqueue }) => {
          for (const spec of context.children) {
            enqueue.spawnChild('consumer', {
              id: spec.id,
              input: { ...spec, session: incarnationId(spec.id, 1), lastId: null },
            });
          }
          enqueue.assign({
            live: Object.fromEntries(context.children.map((c) => [c.id, true])),
            incarnations: Object.fromEntries(context.children.map((c) => [c.id, 1])),
          });
        }),
        on: {
          stop: 'stopping',
          'window.expire': {
            actions: assign({ restartsInWindow: ({ context }) => Math.max(0, context.restartsInWindow - 1) }),
          },
          'consumer.healthy': {
            actions: enqueueActions(({ event, enqueue }) => {
              enqueue(cancel(`stable-${event.id}`));
              enqueue(
                raise(
                  { type: 'child.stable', id: event.id },
                  { delay: 'resetAfter', id: `stable-${event.id}` },
                ),
              );
            }),
          },
          'concurrency.set': {
            actions: enqueueActions(({ context, event, enqueue }) => {
              const { id, concurrency } = event;
              enqueue.assign({
                children: context.children.map((c) => (c.id === id ? { ...c, concurrency } : c)),
              });
              if (context.live[id]) enqueue.sendTo(id, { type: 'concurrency.set', concurrency });
            }),
          },
          'child.stable': {
            actions: assign({ attempts: ({ context, event }) => ({ ...context.attempts, [event.id]: 0 }) }),
          },
          restart: {
            actions: [
              enqueueActions(({ context, event, enqueue }) => {
                const spec = context.children.find((c) => c.id === event.id);
                if (!spec || context.live[event.id]) return;
                const incarnation = (context.incarnations[event.id] ?? 0) + 1;
                enqueue.spawnChild('consumer', {
                  id: spec.id,
                  input: {
                    ...spec,
                    session: incarnationId(spec.id, incarnation),
                    lastId: context.lastIds[spec.id] ?? null,
                  },
                });
                enqueue.assign({
                  live: { ...context.live, [event.id]: true },
                  incarnations: { ...context.incarnations, [event.id]: incarnation },
                  attempts: { ...context.attempts, [event.id]: (context.attempts[event.id] ?? 0) + 1 },
                  restarts: { ...context.restarts, [event.id]: (context.restarts[event.id] ?? 0) + 1 },
                });
              }),
              { type: 'report', params: { kind: 'restarted' } },
            ],
          },
          'xstate.done.actor.*': [
            { guard: 'stoppedNormally', actions: ['recordEnd', exitedReport] },
            {
              guard: 'restartLimitReached',
              target: 'failed',
              actions: ['recordEnd', exitedReport, 'recordFailure'],
            },
            { actions: ['recordEnd', exitedReport, 'scheduleRestart', scheduledReport] },
          ],
          'xstate.error.actor.*': [
            {
              guard: 'restartLimitReached',
              target: 'failed',
              actions: ['recordEnd', exitedReport, 'recordFailure'],
            },
            { actions: ['recordEnd', exitedReport, 'scheduleRestart', scheduledReport] },
          ],
        },
      },
      stopping: {
        entry: enqueueActions(({ context, event, enqueue }) => {
          // Only `stop` enters this state.
          assertEvent(event, 'stop');
          const { timeoutMs } = event;
          for (const spec of context.children) {
            enqueue(cancel(`restart-${spec.id}`));
            enqueue(cancel(`stable-${spec.id}`));
            if (context.live[spec.id]) enqueue.sendTo(spec.id, { type: 'stop', timeoutMs });
          }
        }),
        always: { guard: 'noneLive', target: 'stopped' },
        on: {
          'xstate.done.actor.*': { actions: ['recordEnd', exitedReport] },
          'xstate.error.actor.*': { actions: ['recordEnd', exitedReport] },
        },
      },
      stopped: { type: 'final' },
      failed: { type: 'final', entry: { type: 'report', params: { kind: 'failed' } } },
    },
  })
  .provide({});
