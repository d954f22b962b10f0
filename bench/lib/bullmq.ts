import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ connection options: RESP2 like every connection of ours, and `maxRetriesPerRequest: null`
 * as BullMQ requires for workers. BullMQ passes them on to `new IORedis(url, rest)`.
 */
export function bullConnection(url: string): ConnectionOptions {
  return { url, protocol: 2, maxRetriesPerRequest: null };
}

/** BullMQ's key prefix for this run (queue names may not contain `:`, prefixes may). */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}bull`;
}

/** Job options for the comparison: completed and failed jobs are removed, as production setups do. */
export const BULL_JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const;
