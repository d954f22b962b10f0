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
  /** Omitted: the runtime's default. */
  concurrency?: number;
  consumer?: string;
  count?: number;
  prefetch?: number;
  retry?: { attempts: number; backoff: { initialMs: number; maxMs: number } };
  /** Sabotage for checking the bench itself: one id in 1,000 passed to `ack` is silently dropped. */
  dropAcks?: boolean;
}

/**
 * The storage with `ack` losing one id in 1,000 (a runtime bug the bench must catch: every handler
 * ran, the runtime counts every message processed, yet entries stay pending in Redis).
 */
export function droppingAcks(storage: RedisStreamStorage): RedisStreamStorage {
  let acked = 0;
  const ack: RedisStreamStorage['ack'] = (stream, group, ids) =>
    storage.ack(
      stream,
      group,
      ids.filter(() => ++acked % 1000 !== 0),
    );
  return new Proxy(storage, {
    get(target, property) {
      if (property === 'ack') return ack;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
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
    storage: spec.dropAcks
      ? droppingAcks(RedisStreamStorage.fromUrl(spec.url))
      : RedisStreamStorage.fromUrl(spec.url),
    router,
    container: {},
    consumers: [
      {
        stream: spec.stream,
        group: spec.group,
        ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
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
