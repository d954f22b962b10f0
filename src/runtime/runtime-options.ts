import type { Logger } from 'pino';
import type { InspectionEvent, Observer } from 'xstate';
import {
  type ConsumerOptions,
  positive,
  type ResolvedConsumer,
  resolveConsumers,
} from '../actors/consumer-options.js';
import type { Clock } from '../clock.js';
import type { SupervisorInput } from '../machines/supervisor-machine.js';
import type { Router } from '../routing/router.js';
import type { RetryScheduler } from '../storage/retry-scheduler.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import { describe } from '../storage/validate.js';
import { assertTelemetryOption } from '../telemetry/message-tracer.js';
import { assertKnownOptions } from './option-keys.js';

export type { ConsumerOptions, ResolvedConsumer } from '../actors/consumer-options.js';
export { resolveConsumers } from '../actors/consumer-options.js';

export interface SupervisorOptions {
  /** Restarts allowed within `periodMs` before the runtime fails. @default 5 */
  maxRestarts?: number;
  /** @default 60000 */
  periodMs?: number;
  /** Delay before a restart: min(maxMs, minMs·2^n)·(1 + random·randomFactor). @default { minMs: 500, maxMs: 30000, randomFactor: 0.2 } */
  backoff?: { minMs?: number; maxMs?: number; randomFactor?: number };
  /** A consumer healthy this long has its restart backoff reset, ms. @default 10000 */
  resetAfterMs?: number;
}

/** An XState inspection observer (e.g. `createWebSocketInspector().inspect` from `@statelyai/inspect`). */
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export interface RuntimeOptions<C = unknown> {
  /** @default a new `MemoryStreamStorage` (embedded, in process) */
  storage?: StreamStorage;
  router: Router<C>;
  /** Handed to every handler as `ctx.container`. */
  container?: C;
  consumers: ConsumerOptions[];
  supervisor?: SupervisorOptions;
  /** @default pino at level 'warn' */
  logger?: Logger;
  /** @default the system clock; pass XState's `SimulatedClock` for deterministic tests */
  clock?: Clock;
  inspect?: InspectOption;
  /** Called once when the supervisor gives up (restart limit passed). */
  onFatal?: (error: Error) => void;
  /** Durable delayed retry after the in-process attempts. @default none: dead-letter */
  retryScheduler?: RetryScheduler;
  /** Whether `stop()` closes the storage. @default true */
  closeStorage?: boolean;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * OpenTelemetry traces through `@opentelemetry/api` (an optional peer dependency): each message is
   * handled in a CONSUMER span, child of the producer's context. `false` turns it off. Checked once at
   * `start()`: with no SDK registered by then, messages cost nothing extra. @default on when an SDK is registered
   */
  telemetry?: boolean;
}

interface ResolvedSupervisor {
  maxRestarts: number;
  periodMs: number;
  backoff: { minMs: number; maxMs: number; randomFactor: number };
  resetAfterMs: number;
}

function resolveSupervisor(options: SupervisorOptions = {}): ResolvedSupervisor {
  const randomFactor = options.backoff?.randomFactor ?? 0.2;
  if (typeof randomFactor !== 'number' || !(randomFactor >= 0)) {
    throw new TypeError(
      `Expected \`supervisor.backoff.randomFactor\` to be a number ≥ 0, got ${describe(randomFactor)}`,
    );
  }
  return {
    maxRestarts: positive('supervisor.maxRestarts', options.maxRestarts, 5, 0),
    periodMs: positive('supervisor.periodMs', options.periodMs, 60_000),
    backoff: {
      minMs: positive('supervisor.backoff.minMs', options.backoff?.minMs, 500, 0),
      maxMs: positive('supervisor.backoff.maxMs', options.backoff?.maxMs, 30_000, 0),
      randomFactor,
    },
    resetAfterMs: positive('supervisor.resetAfterMs', options.resetAfterMs, 10_000, 0),
  };
}

/**
 * Check the options of `createRuntime` and resolve its consumers; rejects bad options with a
 * TypeError that says what to change.
 */
export function resolveRuntimeOptions<C>(options: RuntimeOptions<C>): ResolvedConsumer[] {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('Expected `options` to be an object');
  assertKnownOptions(options);
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
  const consumers = options.consumers.flatMap(resolveConsumers);
  const ids = new Set<string>();
  for (const consumer of consumers) {
    if (ids.has(consumer.id)) {
      throw new TypeError(
        `Expected consumer ids to be unique, got "${consumer.id}" twice; give each consumer its own \`consumer\` or \`id\``,
      );
    }
    ids.add(consumer.id);
  }
  resolveSupervisor(options.supervisor);
  assertTelemetryOption(options.telemetry);
  return consumers;
}

/** The supervisor machine's input: every consumer as a child spec, with the runtime's jitter source. */
export function supervisorInput<C>(
  consumers: readonly ResolvedConsumer[],
  options: RuntimeOptions<C>,
): SupervisorInput {
  const random = options.random ?? Math.random;
  const hasScheduler = options.retryScheduler !== undefined;
  return {
    ...resolveSupervisor(options.supervisor),
    random,
    children: consumers.map((c) => ({
      id: c.id,
      stream: c.stream,
      group: c.group,
      consumer: c.consumer,
      concurrency: c.concurrency,
      startId: c.startId,
      claimIntervalMs: c.claim.intervalMs,
      backoff: { initialMs: 100, maxMs: 5000 },
      random,
      worker: { attempts: c.retry.attempts, retry: c.retry.backoff, hasScheduler, random },
    })),
  };
}
