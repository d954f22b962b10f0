import { blockedClients, waitBlocked } from './blocked.js';
import type { DrainVariant, PreparedDrain } from './drain.js';
import { waitSettled } from './settle.js';
import { type BenchRuntime, startStreamvisor } from './streamvisor-drain.js';

/** Options of a streamvisor drain variant: one consumer, one `bench.event` handler. */
export interface SvVariantOptions {
  caseId: string;
  variant: string;
  tags?: readonly string[];
  /** Omitted: the runtime's default. */
  concurrency?: number;
  prefetch?: number;
  /** Makes each drain's extra handler work (it may throw to exercise retries); called per drain. */
  handler?: () => (payload: { i: number }) => void;
  retry?: { attempts: number; backoff: { initialMs: number; maxMs: number } };
  beforeStart?: (runtime: BenchRuntime) => Promise<() => Promise<void>>;
  /** Called after each drain with the handler calls it made (the failure path checks them). */
  onCalls?: (calls: number, messages: number) => void;
}

/**
 * A streamvisor drain through the public API: a runtime on a fresh group at `$`, ready once
 * `start()` resolved and its reader is blocked in XREADGROUP; released by the rewind of
 * DrainStream; done when Redis has nothing pending. Every payload must be seen.
 */
export function svVariant(options: SvVariantOptions): DrainVariant {
  const what = `${options.caseId} ${options.variant}`;
  return {
    case: options.caseId,
    variant: options.variant,
    tags: options.tags ?? ['streamvisor'],
    async prepare(ctx, stream, admin): Promise<PreparedDrain> {
      const n = stream.messages;
      const group = await stream.openGroup(admin);
      const seen = new Uint8Array(n);
      let distinct = 0;
      const onPayload = options.handler?.();
      const blocked = await blockedClients(admin, 'xreadgroup');
      const handle = await startStreamvisor(
        {
          url: ctx.redisUrl,
          stream: stream.key,
          group: group.name,
          ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
          ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
          ...(options.retry === undefined ? {} : { retry: options.retry }),
          ...(ctx.sabotage === 'drop-acks' ? { dropAcks: true } : {}),
        },
        (payload) => {
          onPayload?.(payload);
          if (seen[payload.i] === 0) {
            seen[payload.i] = 1;
            distinct++;
          }
        },
        options.beforeStart,
      );
      try {
        await waitBlocked(admin, 'xreadgroup', blocked + 1, what);
      } catch (error) {
        await handle.stop();
        await group.close();
        throw error;
      }
      return {
        messages: n,
        release: () => group.release(),
        settled: () =>
          waitSettled({ expected: n, handled: () => distinct, query: () => group.query(), what }),
        async verify() {
          await handle.stop();
          if (distinct !== n) throw new Error(`${what}: handler saw ${distinct} of ${n} messages`);
          options.onCalls?.(handle.calls(), n);
          const consumer = handle.runtime.snapshot().consumers[0];
          return {
            'handler calls': handle.calls(),
            ...(consumer !== undefined && consumer.failed > 0 ? { failed: consumer.failed } : {}),
            ...(consumer !== undefined && consumer.deadLettered > 0
              ? { 'dead-lettered': consumer.deadLettered }
              : {}),
          };
        },
        async close() {
          await handle.stop();
          await group.close();
        },
      };
    },
  };
}
