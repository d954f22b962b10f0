import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConsumerEvent } from '../machines/consumer-machine.js';
import type { WorkerRef } from '../machines/dispatch-worker-machine.js';
import type { Router } from '../routing/router.js';
import type { RetryScheduler } from '../storage/retry-scheduler.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import type { MessageTracer } from '../telemetry/message-tracer.js';
import type { ResolvedConsumer } from './consumer-options.js';
import type { ConsumerStats } from './consumer-stats.js';
import type { DeadLetterMemory } from './dead-letter-memory.js';
import type { PartitionLease } from './partition-lease.js';
import type { EventBus } from './runtime-events.js';

/** What a consumer incarnation's I/O session works with (one set per consumer, shared by incarnations). */
export interface ConsumerDeps {
  spec: ResolvedConsumer;
  storage: StreamStorage;
  router: Router<unknown>;
  container: unknown;
  logger: Logger;
  clock: Clock;
  stats: ConsumerStats;
  /** Messages whose dead-letter write failed, with the reason they were to be dead-lettered for. */
  deadLetterMemory: DeadLetterMemory;
  bus: EventBus;
  retryScheduler: RetryScheduler | undefined;
  random: () => number;
  /** `null` unless tracing is on and an OpenTelemetry SDK is registered: then messages cost nothing extra. */
  tracer: MessageTracer | null;
  /** With `assignment: 'leased'`: this runtime's hold on the partition (see partition-lease.ts). */
  lease?: PartitionLease;
}

/** Events the session sends to its consumer machine: the machine's `io.*` events. */
export type IoSendBack = (event: Extract<ConsumerEvent, { type: `io.${string}` }>) => void;

/** The part of XState's actor system the session uses: finding its workers by system id. */
export interface WorkerLookup {
  get(systemId: string): WorkerRef;
}
