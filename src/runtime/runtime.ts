import type { Logger } from 'pino';
import type { AnyActorRef, InspectionEvent, Observer, Subscription } from 'xstate';
import type { ConsumerDeps } from '../actors/consumer-deps.js';
import type { ConsumerStats } from '../actors/consumer-stats.js';
import { assertRetentionSupported } from '../actors/retention-options.js';
import { EventBus, type RuntimeListener } from '../actors/runtime-events.js';
import { type Clock, systemClock } from '../clock.js';
import type { SupervisorOutput } from '../machines/supervisor-machine.js';
import { MemoryStreamStorage } from '../storage/memory/memory-stream-storage.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import { closeResources, withinMs } from './close-resources.js';
import { consumerDeps } from './consumer-deps.js';
import { ConsumerStates } from './consumer-states.js';
import { createDefaultLogger } from './default-logger.js';
import { buildHealth, type RuntimeHealth } from './health.js';
import { LifecycleReporter } from './lifecycle-reporter.js';
import { changeConcurrency } from './runtime-concurrency.js';
import { dispatchFor, type RuntimeDispatch } from './runtime-dispatch.js';
import { RuntimeLeases } from './runtime-leases.js';
import { type ResolvedConsumer, type RuntimeOptions, resolveRuntimeOptions } from './runtime-options.js';
import { buildSnapshot, type RuntimeSnapshot, type RuntimeStatus } from './runtime-snapshot.js';
import { runtimeStateError } from './runtime-state-error.js';
import { createSupervisor, type SupervisorActor } from './runtime-supervisor.js';

/**
 * A running set of supervised consumers. Create it with `createRuntime`.
 *
 * @example
 * const runtime = createRuntime({ router, consumers: [{ stream: 'events', group: 'bot' }] })
 * await runtime.start()
 * process.once('SIGTERM', () => runtime.stop({ timeoutMs: 10_000 }))
 */
export class Runtime<C = unknown> {
  readonly storage: StreamStorage;
  readonly consumers: readonly ResolvedConsumer[];
  #options: RuntimeOptions<C>;
  #logger: Logger;
  #clock: Clock;
  #bus: EventBus;
  #stats = new Map<string, ConsumerStats>();
  #loggers = new Map<string, Logger>();
  /** Per consumer, what its sessions work with (shared by its incarnations). */
  #deps: Map<string, ConsumerDeps>;
  /** The lease managers of leased partitions (`assignment: 'leased'`), if any. */
  #leases: RuntimeLeases | null;
  #actor: SupervisorActor | null = null;
  #status: RuntimeStatus = 'idle';
  #startPromise: Promise<void> | null = null;
  #stopPromise: Promise<void> | null = null;
  #ready = new Set<string>();
  #onReady: (() => void) | null = null;
  #onStartFailed: ((error: Error) => void) | null = null;
  #states = new ConsumerStates((id, state, previous, busy) =>
    this.#onConsumerState(id, state, previous, busy),
  );
  #reporter: LifecycleReporter;
  #done: Promise<SupervisorOutput | null>;
  #resolveDone!: (output: SupervisorOutput | null) => void;
  #fatal: Error | null = null;
  /** One message's handlers once, without Redis (the Python design's `process_message`): see `RuntimeDispatch`. */
  readonly dispatch: RuntimeDispatch = (m, o) => dispatchFor(this.#options, this.#logger, m, o);

  constructor(options: RuntimeOptions<C>) {
    this.consumers = resolveRuntimeOptions(options);
    this.#options = options;
    this.storage = options.storage ?? new MemoryStreamStorage(options.clock ? { clock: options.clock } : {});
    assertRetentionSupported(this.consumers, this.storage);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? createDefaultLogger();
    this.#bus = new EventBus((error) => this.#logger.error({ err: error }, 'a runtime event listener threw'));
    const shared = { storage: this.storage, clock: this.#clock, logger: this.#logger, bus: this.#bus };
    this.#deps = consumerDeps(this.consumers, options, shared);
    this.#leases = RuntimeLeases.create(this.consumers, this.#deps, {
      ...shared,
      random: options.random ?? Math.random,
    });
    for (const [id, deps] of this.#deps) {
      this.#loggers.set(id, deps.logger);
      this.#stats.set(id, deps.stats);
    }
    this.#reporter = new LifecycleReporter(this.#loggers, this.#bus, this.#clock);
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** 'idle' before `start()`, then 'starting' → 'running' → 'stopping' → 'stopped', or 'failed'. */
  get status(): Exclude<RuntimeStatus, 'idle'> {
    return this.#status === 'idle' ? 'starting' : this.#status;
  }

  /**
   * Start every consumer. Resolves once each has created its group and begun to read; rejects if the
   * runtime fails first. Connection errors do not reject: consumers back off and retry until Redis
   * answers (watch `consumer.backoff` events).
   */
  start(): Promise<void> {
    // A second start() while running returns the first one's promise; after stop() it is an error,
    // not a silent no-op (a runtime runs once).
    if (this.#stopPromise)
      return Promise.reject(
        runtimeStateError('This runtime was stopped; create a new one with createRuntime()'),
      );
    if (this.#startPromise) return this.#startPromise;
    this.#status = 'starting';
    this.#startPromise = new Promise<void>((resolve, reject) => {
      this.#onReady = resolve;
      this.#onStartFailed = reject;
    });
    this.#actor = createSupervisor({
      options: this.#options,
      consumers: this.consumers,
      storage: this.storage,
      clock: this.#clock,
      logger: this.#logger,
      deps: this.#deps,
      reporter: this.#reporter,
      onChildren: (children) => this.#states.track(children),
      onDone: (output) => this.#onSupervisorDone(output),
    });
    this.#actor.start();
    this.#leases?.start();
    this.#options.retryScheduler?.start?.([...new Set(this.consumers.map((c) => c.stream))]);
    this.#bus.emit({ type: 'runtime.started', at: this.#clock.now() });
    return this.#startPromise;
  }

  /**
   * Stop gracefully: stop reading, let in-flight handlers finish until `timeoutMs`, then abort them
   * (their messages stay pending, not acked), flush acks, close the storage (unless
   * `closeStorage: false`). Idempotent; resolves even when Redis is unreachable.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(
        new TypeError(`Expected \`timeoutMs\` to be a number ≥ 0, got ${String(options.timeoutMs)}`),
      );
    }
    this.#stopPromise = this.#stop(timeoutMs);
    return this.#stopPromise;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const actor = this.#actor;
    if (actor && this.#status !== 'failed' && actor.getSnapshot().status === 'active') {
      this.#status = 'stopping';
      this.#bus.emit({ type: 'runtime.stopping', at: this.#clock.now() });
      actor.send({ type: 'stop', timeoutMs });
      // Drains end by their own deadline (plus the abort grace); this bound only guards against a bug.
      const output = await withinMs(this.#done, timeoutMs + 5_000);
      if (output === null) {
        this.#logger.error('consumers did not drain in time; stopping them forcibly');
        actor.stop();
      }
    } else if (actor) {
      actor.stop();
    }
    this.#states.close();
    await this.#closeResources();
    if (this.#status !== 'failed') this.#status = 'stopped';
    this.#onReady?.();
    this.#bus.emit({ type: 'runtime.stopped', at: this.#clock.now() });
  }

  #closeResources(): Promise<void> {
    return closeResources(this.#leases, this.storage, this.#options, this.#logger);
  }

  /** The current state of every consumer, with counters. Cheap: call it as often as you like. */
  snapshot(): RuntimeSnapshot {
    const snapshot = this.#actor?.getSnapshot();
    return buildSnapshot({
      status: this.status,
      consumers: this.consumers,
      stats: this.#stats,
      children: (snapshot?.children ?? {}) as Record<string, AnyActorRef | undefined>,
      context: snapshot?.context ?? null,
      lastExit: this.#reporter.lastExit,
      partitions: this.#leases?.partitions() ?? null,
    });
  }

  /** Liveness and readiness for probes (`/healthz`, `/readyz`): see `RuntimeHealth`. Cheap. */
  health(): RuntimeHealth {
    const children = (this.#actor?.getSnapshot().children ?? {}) as Record<string, AnyActorRef | undefined>;
    return buildHealth({ snapshot: this.snapshot(), started: this.#status !== 'idle', children });
  }

  /**
   * Run `concurrency` (1–1024) dispatch workers for `consumerId` from now on, live: growing spawns
   * workers, shrinking stops idle ones at once and busy ones after their message (nothing is lost); a
   * restart keeps it. Resolves once it runs that many; RangeError for a bad count or id (see
   * docs/operations.md). @example await runtime.setConcurrency('orders/billing/pod-1', 16)
   */
  setConcurrency(consumerId: string, concurrency: number): Promise<void> {
    return changeConcurrency(
      { consumers: this.consumers, status: this.#status, supervisor: this.#actor },
      consumerId,
      concurrency,
    );
  }

  /** Listen to lifecycle events. Returns a function that unsubscribes. */
  subscribe(listener: RuntimeListener): () => void {
    return this.#bus.subscribe(listener);
  }

  /**
   * Attach an XState inspection observer to the running actor system (for example
   * `createWebSocketInspector().inspect` from `@statelyai/inspect`). Returns its subscription.
   */
  inspect(observer: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): Subscription {
    if (!this.#actor)
      throw runtimeStateError('Call start() before inspect(), or pass `inspect` to createRuntime()');
    return this.#actor.system.inspect(observer);
  }

  /** Per-consumer counters (live objects), for exporters such as the dashboard's metrics. */
  stats(consumerId: string): ConsumerStats | undefined {
    return this.#stats.get(consumerId);
  }

  /** Resolves when the runtime has stopped or failed. */
  get done(): Promise<void> {
    return this.#done.then(() => undefined);
  }
  #onConsumerState(id: string, state: string, previous: string | null, busy: boolean): void {
    if (state !== 'creatingGroup' && !this.#ready.has(id)) {
      this.#ready.add(id);
      if (this.#ready.size === this.consumers.length && this.#status === 'starting') {
        this.#status = 'running';
        this.#onReady?.();
      }
    }
    if (busy) return;
    const log = this.#loggers.get(id) ?? this.#logger;
    log.info({ state, previous }, `consumer ${state}`);
    this.#bus.emit({ type: 'consumer.state', at: this.#clock.now(), consumerId: id, state, previous });
  }

  #onSupervisorDone(output: SupervisorOutput | null): void {
    if (this.#status === 'stopped' || this.#status === 'failed') return;
    if (output?.reason === 'failed') {
      this.#status = 'failed';
      const error = this.#reporter.restartLimitPassed(this.#logger, output.consumerId, output.error);
      this.#fatal = error;
      this.#onStartFailed?.(error);
      try {
        this.#options.onFatal?.(error);
      } catch (cause) {
        this.#logger.error({ err: cause }, 'onFatal threw');
      }
      this.#states.close();
      void this.#closeResources();
    }
    this.#resolveDone(output);
  }

  /** The error that made the runtime fail, if it did. */
  get fatalError(): Error | null {
    return this.#fatal;
  }
}

/**
 * Create a runtime of supervised consumers (every option: `RuntimeOptions`; the contract: docs/contract.md).
 *
 * @example
 * const router = new Router()
 * router.on('user.joined', async (message, ctx) => ctx.log.info({ payload: message.payload }, 'joined'))
 * const runtime = createRuntime({ storage: RedisStreamStorage.fromUrl('redis://127.0.0.1:6379'), router,
 *   consumers: [{ stream: 'bot_events', group: 'bot', concurrency: 16 }] })
 * await runtime.start()
 */
export function createRuntime<C = unknown>(options: RuntimeOptions<C>): Runtime<C> {
  return new Runtime(options);
}
