import type { Logger } from 'pino';
import { type Actor, type AnyActorRef, createActor } from 'xstate';
import type { ConsumerDeps } from '../actors/consumer-deps.js';
import { provideMachines } from '../actors/provide-machines.js';
import type { Clock } from '../clock.js';
import type { SupervisorOutput } from '../machines/supervisor-machine.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import { startTracing } from '../telemetry/message-tracer.js';
import type { LifecycleReporter } from './lifecycle-reporter.js';
import { type ResolvedConsumer, type RuntimeOptions, supervisorInput } from './runtime-options.js';

/** The root actor of a runtime: the supervisor machine with the runtime's actions and actors. */
export type SupervisorActor = Actor<ReturnType<typeof provideMachines>['supervisor']>;

/** What a runtime hands `createSupervisor`. */
export interface SupervisorSetup<C> {
  readonly options: RuntimeOptions<C>;
  readonly consumers: readonly ResolvedConsumer[];
  readonly storage: StreamStorage;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Per consumer, what its sessions work with; each gets its tracer here. */
  readonly deps: ReadonlyMap<string, ConsumerDeps>;
  readonly reporter: LifecycleReporter;
  /** Every snapshot's children (the consumers), to follow their states. */
  readonly onChildren: (children: Record<string, AnyActorRef | undefined>) => void;
  /** The supervisor ended (its output) or failed. */
  readonly onDone: (output: SupervisorOutput | null) => void;
}

/**
 * Build a runtime's supervisor actor, not started: start tracing (each consumer's tracer), provide
 * the machines, create the actor with the runtime's clock and `inspect` option, and subscribe to it.
 *
 * @example
 * const actor = createSupervisor({ options, consumers, storage, clock, logger, deps, reporter, onChildren, onDone })
 * actor.start()
 */
export function createSupervisor<C>(setup: SupervisorSetup<C>): SupervisorActor {
  const { options, clock, logger, reporter } = setup;
  const tracing = startTracing(options.telemetry, logger);
  for (const deps of setup.deps.values()) deps.tracer = tracing?.forConsumer(deps.spec, deps.logger) ?? null;
  const { supervisor } = provideMachines({
    storage: setup.storage,
    clock,
    consumerDeps: setup.deps,
    onConsumerReport: (context, kind) => reporter.consumerReport(context, kind),
    onSupervisorReport: (context, event, kind) => reporter.supervisorReport(context, event, kind),
  });
  const inspect = options.inspect;
  const actor = createActor(supervisor, {
    clock,
    ...(inspect ? { inspect } : {}),
    input: supervisorInput(setup.consumers, options),
  });
  actor.subscribe({
    next: (snapshot) => {
      setup.onChildren(snapshot.children as Record<string, AnyActorRef | undefined>);
      if (snapshot.status === 'done') setup.onDone(snapshot.output ?? null);
    },
    error: (error) => setup.onDone({ reason: 'failed', consumerId: null, error: String(error) }),
  });
  return actor;
}
