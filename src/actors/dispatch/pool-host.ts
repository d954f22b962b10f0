import type { EntryWrite } from '../../storage/stream-storage.js';

/** What the worker pool (worker-pool.ts) tells its consumer session (`ConsumerIo`). */
export interface PoolHost {
  /** A message succeeded: ack it. */
  ack(id: string): void;
  /** A message whose handlers published with `ctx.publish` succeeded: ack it with its outputs. */
  ackWith(id: string, outputs: readonly EntryWrite[]): void;
  /** A message left the pool (acked, dead-lettered, scheduled, released). */
  freed(): void;
  /** One message's handlers took `ms` (feeds the adaptive read size). */
  handled(ms: number): void;
  /** These workers left the pool (it shrank; each was idle): stop their actors. */
  retired(ids: string[]): void;
}
