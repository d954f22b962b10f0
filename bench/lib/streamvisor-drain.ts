/**
 * Runs one streamvisor runtime (one consumer, one `bench.event` handler) through the public API
 * only, as a user would. Shared by the streamvisor cases and the scale worker.
 */
import { pino } from 'pino';
import { createRuntime, RedisStreamStorage, Router, type Runtime } from '../../src/index.js';
import { BENCH_TYPE } from './redis.js';
import { waitUntil } from './wait.js';

/** The runtime `createRuntime` returns. */
export type BenchRuntime = Runtime<object>;

/** What to start: one consumer of `stream` in `group`. */
export interface SvConsumerSpec {
  url: string;
  stream: string;
  group: string;
  concurrency: number;
  consumer?: string;
  count?: number;
  prefetch?: number;
  retry?: { attempts: number; backoff: { initialMs: number; maxMs: number } };
}

/** A started runtime with the count of handler calls made so far. */
export interface SvHandle {
  readonly runtime: BenchRuntime;
  /** Handler calls so far (retries included). */
  calls(): number;
  /** Messages the consumer reports as processed (`snapshot().consumers[0].processed`). */
  processed(): number;
  stop(): Promise<void>;
}

/**
 * Creates the runtime with `handler` for `bench.event` and starts it. `beforeStart` runs between
 * `createRuntime` and `start()` (to attach a dashboard); what it returns runs after `stop()`.
 */
export async function startStreamvisor(
  spec: SvConsumerSpec,
  handler: (payload: { i: number; t?: number }) => void,
  beforeStart?: (runtime: BenchRuntime) => Promise<() => Promise<void>>,
): Promise<SvHandle> {
  let calls = 0;
  const router = new Router<object>();
  router.on(BENCH_TYPE, (message) => {
    calls++;
    handler(message.payload as { i: number; t?: number });
  });
  const runtime = createRuntime({
    storage: RedisStreamStorage.fromUrl(spec.url),
    router,
    container: {},
    consumers: [
      {
        stream: spec.stream,
        group: spec.group,
        concurrency: spec.concurrency,
        ...(spec.consumer === undefined ? {} : { consumer: spec.consumer }),
        ...(spec.count === undefined ? {} : { count: spec.count }),
        ...(spec.prefetch === undefined ? {} : { prefetch: spec.prefetch }),
        ...(spec.retry === undefined ? {} : { retry: spec.retry }),
      },
    ],
    logger: pino({ level: 'warn' }),
  });
  const detach = beforeStart === undefined ? undefined : await beforeStart(runtime);
  await runtime.start();
  let stopped: Promise<void> | undefined;
  return {
    runtime,
    calls: () => calls,
    processed: () => runtime.snapshot().consumers[0]?.processed ?? 0,
    stop: () => {
      stopped ??= (async () => {
        await runtime.stop({ timeoutMs: 10_000 });
        await detach?.();
      })();
      return stopped;
    },
  };
}

/** Waits until the handler ran for `messages` messages and the consumer reports them processed. */
export async function waitProcessed(handle: SvHandle, messages: number, what: string): Promise<void> {
  await waitUntil(() => handle.processed() >= messages, {
    progress: () => handle.calls() + handle.processed(),
    what,
  });
}
