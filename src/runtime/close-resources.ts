import type { Logger } from 'pino';
import type { StreamStorage } from '../storage/stream-storage.js';
import type { RuntimeOptions } from './runtime-options.js';

/**
 * Close what a stopped (or failed) runtime opened: its storage (unless `closeStorage: false`) and its
 * retry scheduler. Every close runs even when another fails; failures are logged, never thrown.
 *
 * @example
 * await closeResources(runtime.storage, options, logger)
 */
export async function closeResources<C>(
  storage: StreamStorage,
  options: RuntimeOptions<C>,
  logger: Logger,
): Promise<void> {
  const closes: Promise<unknown>[] = [];
  if (options.closeStorage !== false) closes.push(storage.close());
  if (options.retryScheduler?.close) closes.push(options.retryScheduler.close());
  const results = await Promise.allSettled(closes);
  for (const result of results) {
    if (result.status === 'rejected') logger.warn({ err: result.reason }, 'error while closing');
  }
}
