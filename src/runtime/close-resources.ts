import type { Logger } from 'pino';
import type { StreamStorage } from '../storage/stream-storage.js';
import type { RuntimeLeases } from './runtime-leases.js';
import type { RuntimeOptions } from './runtime-options.js';

/**
 * What a runtime closes once its consumers have drained (or it failed), in order: its partition
 * leases (handed over before the storage closes), then the storage (unless `closeStorage: false`) and
 * the retry scheduler. A failure is logged and the rest still closes.
 */
export async function closeResources<C>(
  leases: RuntimeLeases | null,
  storage: StreamStorage,
  options: RuntimeOptions<C>,
  logger: Logger,
): Promise<void> {
  await leases?.stop();
  const closes: Promise<unknown>[] = [];
  if (options.closeStorage !== false) closes.push(storage.close());
  if (options.retryScheduler?.close) closes.push(options.retryScheduler.close());
  const results = await Promise.allSettled(closes);
  for (const result of results) {
    if (result.status === 'rejected') logger.warn({ err: result.reason }, 'error while closing');
  }
}

/** `promise`'s value, or `null` when it takes longer than `ms` (an unref'd timer: it keeps nothing alive). */
export function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  const guard = new Promise<null>((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    timer.unref();
    void promise.then(() => clearTimeout(timer));
  });
  return Promise.race([promise, guard]);
}
