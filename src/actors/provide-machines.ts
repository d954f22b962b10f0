import { fromPromise } from 'xstate';
import type { Clock } from '../clock.js';
import { type ConsumerContext, consumerMachine, type IoInput } from '../machines/consumer-machine.js';
import {
  type ReportKind,
  type SupervisorContext,
  supervisorMachine,
} from '../machines/supervisor-machine.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import { ConsumerIo } from './consumer/consumer-io.js';
import { type CreateGroupInput, createGroup } from './consumer/create-group.js';
import { ioLogic } from './consumer/io-actor.js';
import type { ConsumerDeps } from './consumer-deps.js';
import { workerLogic } from './dispatch/worker-actor.js';

/** What the machines' named actions and actors are wired to. */
export interface MachineWiring {
  storage: StreamStorage;
  clock: Clock;
  /** Per-consumer dependencies of a new incarnation's ConsumerIo, by consumer id. */
  consumerDeps: ReadonlyMap<string, ConsumerDeps>;
  onConsumerReport(context: ConsumerContext, kind: 'group.created' | 'backoff' | 'draining'): void;
  onSupervisorReport(context: SupervisorContext, event: { type: string }, kind: ReportKind): void;
}

/**
 * Provide the pure machines with their I/O: the supervisor logic the runtime runs. The workers come
 * provided from src/actors/dispatch/worker-actor.ts; the consumer's actions and actors reach the
 * incarnation's ConsumerIo by its incarnation id (`live`, kept by the `io` actor).
 */
export function provideMachines(wiring: MachineWiring) {
  const live = new Map<string, ConsumerIo>();
  const depsOf = (consumerId: string): ConsumerDeps => {
    const deps = wiring.consumerDeps.get(consumerId);
    if (deps === undefined) throw new Error(`No consumer "${consumerId}" in this runtime`);
    return deps;
  };
  const ioOf = (input: IoInput): ConsumerIo => {
    const io = live.get(input.session);
    if (io === undefined) throw new Error('No ConsumerIo for this incarnation; the consumer was stopped');
    return io;
  };

  const consumer = consumerMachine.provide({
    actors: {
      worker: workerLogic,
      io: ioLogic(
        (input, system, sendBack) => new ConsumerIo(depsOf(input.id), input, system, sendBack),
        live,
      ),
      createGroup: fromPromise(
        async ({ input }: { input: CreateGroupInput & { id: string; session: string } }) => {
          const output = await createGroup(depsOf(input.id), input);
          // The ids read before were of the stream as it was: forget them (else they come back as
          // the last id seen with the drain's answer, and the next recreation rewinds again).
          if (output.rewoundTo !== undefined) live.get(input.session)?.forgetLastId();
          return output;
        },
      ),
      recover: fromPromise(({ input, signal }: { input: IoInput; signal: AbortSignal }) =>
        ioOf(input).recover(signal),
      ),
      drain: fromPromise(({ input }: { input: IoInput & { timeoutMs: number | null } }) =>
        ioOf(input).drain(input.timeoutMs),
      ),
    },
    actions: {
      report: ({ context }, params) => wiring.onConsumerReport(context, params.kind),
      read: ({ context }) => live.get(context.session)?.read(),
      awaitCapacity: ({ context }) => live.get(context.session)?.awaitCapacity(),
      resize: ({ context }) => live.get(context.session)?.resize(context.concurrency),
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
