import type { Logger } from 'pino';
import {
  type Actor,
  type AnyActorRef,
  createActor,
  type InspectionEvent,
  type Observer,
  type Subscription,
} from 'xstate';
import { type Clock, systemClock } from '../clock.js';
import { ConsumerStats } from '../consumer/consumer-stats.js';
import { StreamvisorError } from '../errors/streamvisor-error.js';
import type { SupervisorOutput } from '../machines/supervisor-machine.js';
import type { Router } from '../routing/router.js';
import { MemoryStreamStorage } from '../storage/memory-stream-storage.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import { createDefaultLogger } from './default-logger.js';
import { LifecycleReporter } from './lifecycle-reporter.js';
import { EventBus, type RuntimeEvent, type RuntimeListener } from './runtime-events.js';
import {
  type ResolvedConsumer,
  type RuntimeOptions,
  resolveConsumers,
  resolveSupervisor,
} from './runtime-options.js';
import { buildSnapshot, type RuntimeSnapshot, type RuntimeStatus } from './runtime-snapshot.js';
import { wireMachines } from './wire-machines.js';

/** States between which a consumer moves once per batch: not logged or reported one by one. */
const BUSY_STATES = new Set(['polling', 'dispatching']);

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
  #actor: Actor<ReturnType<typeof wireMachines>['supervisor']> | null = null;
  #status: RuntimeStatus = 'idle';
  #startPromise: Promise<void> | null = null;
  #stopPromise: Promise<void> | null = null;
  #ready = new Set<string>();
  #onReady: (() => void) | null = null;
  #onStartFailed: ((error: Error) => void) | null = null;
  #childSubs = new Map<string, { ref: AnyActorRef; sub: Subscription; state: string | null }>();
  #reporter: LifecycleReporter;
  #done: Promise<SupervisorOutput | null>;
  #resolveDone!: (output: SupervisorOutput | null) => void;
  #fatal: Error | null = null;
  #sessions: ReadonlyMap<string, { readonly busyWorkers: ReadonlyMap<string, string> }> = new Map();

  constructor(options: RuntimeOptions<C>) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('Expected `options` to be an object');
    if (options.router === undefined || typeof (options.router as Router<C>).match !== 'function') {
      throw new TypeError('Expected `router` to be a Router (new Router())');
    }
    if (!Array.isArray(options.consumers) || options.consumers.length === 0) {
      throw new TypeError('Expected `consumers` to be a non-empty array of { stream, group, … }');
    }
    const scheduler = options.retryScheduler as { schedule?: unknown } | undefined;
    if (
      scheduler !== undefined &&
      (typeof scheduler !== 'object' || typeof scheduler?.schedule !== 'function')
    ) {
      throw new TypeError(
        'Expected `retryScheduler` to be a RetryScheduler ({ schedule(stream, entry, delayMs) }), e.g. new RedisRetryScheduler(client)',
      );
    }
    this.#options = options;
    this.consumers = options.consumers.flatMap(resolveConsumers);
    const ids = new Set<string>();
    for (const consumer of this.consumers) {
      if (ids.has(consumer.id)) {
        throw new TypeError(
          `Expected consumer ids to be unique, got "${consumer.id}" twice; give each consumer its own \`consumer\` or \`id\``,
        );
      }
      ids.add(consumer.id);
      this.#stats.set(consumer.id, new ConsumerStats());
    }
    resolveSupervisor(options.supervisor);
    this.storage = options.storage ?? new MemoryStreamStorage(options.clock ? { clock: options.clock } : {});
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? createDefaultLogger();
    this.#bus = new EventBus((error) => this.#logger.error({ err: error }, 'a runtime event listener threw'));
    for (const consumer of this.consumers) {
      this.#loggers.set(
        consumer.id,
        this.#logger.child({
          consumerId: consumer.id,
          stream: consumer.stream,
          group: consumer.group,
          consumer: consumer.consumer,
        }),
      );
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
        new StreamvisorError(
          'This runtime was stopped; create a new one with createRuntime()',
          'RUNTIME_STATE',
          false,
        ),
      );
    if (this.#startPromise) return this.#startPromise;
    this.#status = 'starting';
    this.#startPromise = new Promise<void>((resolve, reject) => {
      this.#onReady = resolve;
      this.#onStartFailed = reject;
    });
    const supervisorOptions = resolveSupervisor(this.#options.supervisor);
    const { supervisor, sessions } = wireMachines({
      storage: this.storage,
      clock: this.#clock,
      random: this.#options.random ?? Math.random,
      sessionDeps: (consumerId) => {
        const spec = this.consumers.find((c) => c.id === consumerId)!;
        return {
          spec,
          storage: this.storage,
          router: this.#options.router as Router<unknown>,
          container: this.#options.container,
          logger: this.#loggers.get(consumerId)!,
          clock: this.#clock,
          stats: this.#stats.get(consumerId)!,
          bus: this.#bus,
          retryScheduler: this.#options.retryScheduler,
          random: this.#options.random ?? Math.random,
        };
      },
      onConsumerReport: (context, kind) => this.#reporter.consumerReport(context, kind),
      onSupervisorReport: (context, event, kind) => this.#reporter.supervisorReport(context, event, kind),
    });
    this.#sessions = sessions;
    const inspect = this.#options.inspect;
    this.#actor = createActor(supervisor, {
      clock: this.#clock,
      ...(inspect ? { inspect } : {}),
      input: {
        ...supervisorOptions,
        children: this.consumers.map((c) => ({
          id: c.id,
          stream: c.stream,
          group: c.group,
          consumer: c.consumer,
          concurrency: c.concurrency,
          startId: c.startId,
          claimIntervalMs: c.claim.intervalMs,
          backoff: { initialMs: 100, maxMs: 5000 },
          worker: {
            attempts: c.retry.attempts,
            retry: c.retry.backoff,
            hasScheduler: this.#options.retryScheduler !== undefined,
          },
        })),
      },
    });
    this.#actor.subscribe({
      next: (snapshot) => {
        this.#trackChildren(snapshot.children as Record<string, AnyActorRef | undefined>);
        if (snapshot.status === 'done') this.#onSupervisorDone(snapshot.output ?? null);
      },
      error: (error) => this.#onSupervisorDone({ reason: 'failed', consumerId: null, error: String(error) }),
    });
    this.#actor.start();
    this.#options.retryScheduler?.start?.([...new Set(this.consumers.map((c) => c.stream))]);
    this.#emit({ type: 'runtime.started', at: this.#clock.now() });
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
      this.#emit({ type: 'runtime.stopping', at: this.#clock.now() });
      actor.send({ type: 'stop', timeoutMs });
      // Drains end by their own deadline (plus the abort grace); this bound only guards against a bug.
      const guard = new Promise<null>((resolve) => {
        const timer = setTimeout(() => resolve(null), timeoutMs + 5_000);
        timer.unref();
        void this.#done.then(() => clearTimeout(timer));
      });
      const output = await Promise.race([this.#done, guard]);
      if (output === null) {
        this.#logger.error('consumers did not drain in time; stopping them forcibly');
        actor.stop();
      }
    } else if (actor) {
      actor.stop();
    }
    for (const { sub } of this.#childSubs.values()) sub.unsubscribe();
    this.#childSubs.clear();
    await this.#closeResources();
    if (this.#status !== 'failed') this.#status = 'stopped';
    this.#onReady?.();
    this.#emit({ type: 'runtime.stopped', at: this.#clock.now() });
  }

  async #closeResources(): Promise<void> {
    const closes: Promise<unknown>[] = [];
    if (this.#options.closeStorage !== false) closes.push(this.storage.close());
    if (this.#options.retryScheduler?.close) closes.push(this.#options.retryScheduler.close());
    const results = await Promise.allSettled(closes);
    for (const result of results) {
      if (result.status === 'rejected') this.#logger.warn({ err: result.reason }, 'error while closing');
    }
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
      sessions: this.#sessions,
    });
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
    if (!this.#actor) {
      throw new StreamvisorError(
        'Call start() before inspect(), or pass `inspect` to createRuntime()',
        'RUNTIME_STATE',
        false,
      );
    }
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

  #emit(event: RuntimeEvent): void {
    this.#bus.emit(event);
  }

  #trackChildren(children: Record<string, AnyActorRef | undefined>): void {
    for (const [id, ref] of Object.entries(children)) {
      if (!ref) continue;
      const known = this.#childSubs.get(id);
      if (known?.ref === ref) continue;
      known?.sub.unsubscribe();
      const entry = { ref, sub: null as unknown as Subscription, state: null as string | null };
      this.#childSubs.set(id, entry);
      entry.sub = ref.subscribe((snapshot: { value: unknown }) => {
        const state = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
        if (state === entry.state) return;
        const previous = entry.state;
        entry.state = state;
        this.#onConsumerState(id, state, previous);
      });
    }
  }

  #onConsumerState(id: string, state: string, previous: string | null): void {
    if (state !== 'creatingGroup' && !this.#ready.has(id)) {
      this.#ready.add(id);
      if (this.#ready.size === this.consumers.length && this.#status === 'starting') {
        this.#status = 'running';
        this.#onReady?.();
      }
    }
    if (BUSY_STATES.has(state) && (previous === null || BUSY_STATES.has(previous))) return;
    const log = this.#loggers.get(id)!;
    log.info({ state, previous }, `consumer ${state}`);
    this.#emit({ type: 'consumer.state', at: this.#clock.now(), consumerId: id, state, previous });
  }

  #onSupervisorDone(output: SupervisorOutput | null): void {
    if (this.#status === 'stopped' || this.#status === 'failed') return;
    if (output?.reason === 'failed') {
      this.#status = 'failed';
      const error = new StreamvisorError(
        `Consumer "${output.consumerId}" passed the restart limit (supervisor.maxRestarts within periodMs); last error: ${output.error ?? 'unknown'}`,
        'RESTART_LIMIT',
        false,
      );
      this.#fatal = error;
      this.#logger.error(
        { consumerId: output.consumerId, error: output.error },
        'runtime failed: restart limit passed',
      );
      this.#emit({
        type: 'runtime.failed',
        at: this.#clock.now(),
        consumerId: output.consumerId,
        error: error.message,
      });
      this.#onStartFailed?.(error);
      try {
        this.#options.onFatal?.(error);
      } catch (cause) {
        this.#logger.error({ err: cause }, 'onFatal threw');
      }
      for (const { sub } of this.#childSubs.values()) sub.unsubscribe();
      this.#childSubs.clear();
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
 * Create a runtime of supervised consumers (see DESIGN and README for every option).
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
