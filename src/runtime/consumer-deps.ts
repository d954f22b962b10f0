import type { Logger } from 'pino';
import type { ConsumerDeps } from '../actors/consumer-deps.js';
import { ConsumerStats } from '../actors/consumer-stats.js';
import { DeadLetterMemory } from '../actors/dead-letter-memory.js';
import type { EventBus } from '../actors/runtime-events.js';
import type { Clock } from '../clock.js';
import type { Router } from '../routing/router.js';
import type { StreamStorage } from '../storage/stream-storage.js';
import type { ResolvedConsumer, RuntimeOptions } from './runtime-options.js';

/** What every consumer of a runtime shares. */
export interface SharedDeps {
  storage: StreamStorage;
  clock: Clock;
  logger: Logger;
  bus: EventBus;
}

/**
 * Per consumer, what its sessions work with (shared by its incarnations): its own child logger and
 * counters, and no tracer until `start()` decides whether messages are traced.
 *
 * @example
 * const deps = consumerDeps(consumers, options, { storage, clock, logger, bus })
 * deps.get('orders/billing/pod-1')?.stats.processed // 0
 */
export function consumerDeps<C>(
  consumers: readonly ResolvedConsumer[],
  options: RuntimeOptions<C>,
  shared: SharedDeps,
): Map<string, ConsumerDeps> {
  const deps = new Map<string, ConsumerDeps>();
  for (const spec of consumers) {
    const { id, stream, group, consumer } = spec;
    deps.set(id, {
      spec,
      storage: shared.storage,
      router: options.router as Router<unknown>,
      container: options.container,
      logger: shared.logger.child({ consumerId: id, stream, group, consumer }),
      clock: shared.clock,
      stats: new ConsumerStats(),
      deadLetterMemory: new DeadLetterMemory(),
      bus: shared.bus,
      retryScheduler: options.retryScheduler,
      random: options.random ?? Math.random,
      tracer: null,
    });
  }
  return deps;
}
