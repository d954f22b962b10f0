import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRuntime,
  MemoryRetryScheduler,
  MemoryStreamStorage,
  NonRetryableError,
  publish,
  RedisStreamStorage,
  Router,
  type Router as RouterType,
} from '../../src/index.js';
import { TRACER_NAME } from '../../src/telemetry/message-tracer.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';
import { memoryLogger } from '../unit/retry-support.js';
import { eventually, testClient, testLogger } from './runtime-support.js';

// OpenTelemetry against the shared Redis: the SDK's in-memory exporter, the async-hooks context
// manager and the W3C propagator, registered globally as an application would.

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const producer = trace.getTracer('test-producer');

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});
afterEach(async () => {
  exporter.reset();
  await expectNoLeaks();
});

const consumerSpans = () =>
  exporter.getFinishedSpans().filter((span) => span.instrumentationScope.name === TRACER_NAME);

async function withRuntime(
  setup: (router: RouterType, prefix: string) => void,
  run: (stream: string, storage: RedisStreamStorage) => Promise<void>,
  extra: { logger?: ReturnType<typeof testLogger>; retryAttempts?: number } = {},
): Promise<void> {
  const prefix = uniquePrefix();
  const stream = `${prefix}:events`;
  const router = new Router();
  setup(router, prefix);
  const storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
  const runtime = trackRuntime(
    createRuntime({
      storage,
      router,
      logger: extra.logger ?? testLogger(),
      consumers: [
        {
          stream,
          group: 'g',
          consumer: 'c1',
          blockMs: 100,
          retry: { attempts: extra.retryAttempts ?? 3, backoff: { initialMs: 1, maxMs: 5 } },
        },
      ],
    }),
  );
  try {
    await runtime.start();
    await run(stream, storage);
  } finally {
    await runtime.stop({ timeoutMs: 2000 });
    await cleanupKeys(prefix);
  }
}

describe('OpenTelemetry traces (shared Redis)', { timeout: 15_000 }, () => {
  it('a message published inside a span is handled in a CONSUMER span of the same trace, active in the handler', async () => {
    const seen: Array<string | undefined> = [];
    let producerSpanId = '';
    let traceId = '';
    await withRuntime(
      (router) =>
        router.on('order.paid', async () => {
          seen.push(trace.getActiveSpan()?.spanContext().spanId);
        }),
      async (stream) => {
        const client = testClient(sharedRedisUrl());
        try {
          await producer.startActiveSpan('checkout', async (span) => {
            producerSpanId = span.spanContext().spanId;
            traceId = span.spanContext().traceId;
            // publish() through a storage of its own, as a separate producer process would.
            const producerStorage = RedisStreamStorage.fromUrl(sharedRedisUrl());
            const published = await publish(producerStorage, stream, 'order.paid', { orderId: 42 });
            await producerStorage.close();
            const [[, fields]] = (await client.xrange(stream, published.id, published.id)) as [
              [string, string[]],
            ];
            expect(fields).toContain('traceparent');
            span.end();
          });
          await eventually(() => consumerSpans().length === 1, 5000, 'the consumer span');
        } finally {
          client.disconnect();
        }
      },
    );
    const [span] = consumerSpans() as [ReadableSpan];
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe(producerSpanId);
    expect(seen).toEqual([span.spanContext().spanId]);
    expect(span.name).toMatch(/^process sv-test:.*:events$/);
    expect(span.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': expect.stringMatching(/:events$/),
      'messaging.consumer.group.name': 'g',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': expect.stringMatching(/^\d+-\d+$/),
      'streamvisor.message.type': 'order.paid',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('retries are events on the one span of a message; a dead letter sets the error status', async () => {
    let calls = 0;
    await withRuntime(
      (router) =>
        router.on('flaky', async () => {
          calls++;
          throw new Error(`boom ${calls}`);
        }),
      async (stream, storage) => {
        await storage.add(stream, { type: 'flaky' });
        await eventually(() => consumerSpans().length === 1, 5000, 'the dead-lettered span');
      },
      { retryAttempts: 3 },
    );
    expect(calls).toBe(3);
    const [span] = consumerSpans() as [ReadableSpan];
    const retries = span.events.filter((event) => event.name === 'retry');
    expect(retries.map((event) => event.attributes?.['streamvisor.attempt'])).toEqual([1, 2]);
    expect(retries.map((event) => event.attributes?.['exception.message'])).toEqual(['boom 1', 'boom 2']);
    expect(span.events.map((event) => event.name)).toContain('dead_letter');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toContain('handler-error');
    expect(span.attributes['error.type']).toBe('handler-error');
  });

  it('a NonRetryableError dead-letters at once: error status, no retry event', async () => {
    await withRuntime(
      (router) =>
        router.on('bad', async () => {
          throw new NonRetryableError('refused');
        }),
      async (stream, storage) => {
        await storage.add(stream, { type: 'bad' });
        await eventually(() => consumerSpans().length === 1, 5000, 'the span');
      },
    );
    const [span] = consumerSpans() as [ReadableSpan];
    expect(span.events.filter((event) => event.name === 'retry')).toEqual([]);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('non-retryable');
  });

  it('a malformed traceparent starts a new trace, logs at debug, and the message is handled', async () => {
    const { logger, records } = memoryLogger();
    const handled: string[] = [];
    await withRuntime(
      (router) => router.on('job', async (message) => void handled.push(message.id)),
      async (stream, storage) => {
        await storage.add(stream, { type: 'job', traceparent: '00-not-a-trace-01' });
        await eventually(() => consumerSpans().length === 1, 5000, 'the span');
      },
      { logger },
    );
    expect(handled).toHaveLength(1);
    const [span] = consumerSpans() as [ReadableSpan];
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const debug = records.find((record) => String(record.msg).includes('malformed traceparent'));
    expect(debug).toMatchObject({ level: 20, traceparent: '00-not-a-trace-01', messageId: handled[0] });
  });

  it('telemetry: false makes no span and leaves the handler outside any span', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:events`;
    const router = new Router();
    const active: unknown[] = [];
    router.on('job', async () => void active.push(trace.getActiveSpan()));
    const runtime = trackRuntime(
      createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        telemetry: false,
        logger: testLogger(),
        consumers: [{ stream, group: 'g', blockMs: 100 }],
      }),
    );
    try {
      await runtime.start();
      await runtime.storage.add(stream, { type: 'job' });
      await eventually(() => active.length === 1, 5000, 'the handler');
    } finally {
      await runtime.stop({ timeoutMs: 2000 });
      await cleanupKeys(prefix);
    }
    expect(active).toEqual([undefined]);
    expect(consumerSpans()).toEqual([]);
  });

  it('publish() injects the active context; telemetry: false or an explicit traceparent header wins', async () => {
    const storage = new MemoryStreamStorage();
    const explicit = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traceparent = await producer.startActiveSpan('send', async (span) => {
      await publish(storage, 's', 'a', {});
      await publish(storage, 's', 'b', {}, { telemetry: false });
      await publish(storage, 's', 'c', {}, { headers: { traceparent: explicit } });
      span.end();
      return `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
    });
    await publish(storage, 's', 'd', {});
    const fields = (await storage.range('s')).map((entry) => entry.fields.traceparent);
    expect(fields).toEqual([traceparent, undefined, explicit, undefined]);
    await storage.close();
  });

  it('a durable retry is an event on the failed delivery; the re-delivery is a new span in the same trace', async () => {
    const storage = new MemoryStreamStorage();
    const router = new Router();
    let calls = 0;
    router.on('job', async () => {
      if (++calls === 1) throw new Error('not yet');
    });
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        logger: testLogger(),
        retryScheduler: new MemoryRetryScheduler({ storage }),
        consumers: [
          {
            stream: 's',
            group: 'g',
            startId: '0',
            retry: { attempts: 1, scheduled: { attempts: 1, backoff: { initialMs: 1, maxMs: 1 } } },
          },
        ],
      }),
    );
    let traceId = '';
    try {
      await runtime.start();
      await producer.startActiveSpan('send', async (span) => {
        traceId = span.spanContext().traceId;
        await publish(storage, 's', 'job', {});
        span.end();
      });
      await eventually(() => consumerSpans().length === 2, 5000, 'two deliveries');
    } finally {
      await runtime.stop();
    }
    const [failed, retried] = consumerSpans() as [ReadableSpan, ReadableSpan];
    expect(failed.events.map((event) => event.name)).toEqual(['retry.scheduled']);
    expect(failed.events[0]?.attributes).toMatchObject({
      'streamvisor.retry.scheduled_attempt': 1,
      'exception.message': 'not yet',
    });
    expect(failed.status.code).toBe(SpanStatusCode.UNSET);
    expect(retried.events).toEqual([]);
    expect([failed, retried].map((span) => span.spanContext().traceId)).toEqual([traceId, traceId]);
    expect(retried.attributes['messaging.message.id']).not.toBe(failed.attributes['messaging.message.id']);
  });

  it('a message a stop leaves pending ends its span with a released event, without error', async () => {
    const storage = new MemoryStreamStorage();
    const router = new Router();
    let started = false;
    router.on('job', async (_message, ctx) => {
      started = true;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      throw ctx.signal.reason;
    });
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        logger: testLogger(),
        consumers: [{ stream: 's', group: 'g', startId: '0' }],
      }),
    );
    await runtime.start();
    await publish(storage, 's', 'job', {});
    await eventually(() => started, 5000, 'the handler to start');
    await runtime.stop({ timeoutMs: 50 });
    const [span] = consumerSpans() as [ReadableSpan];
    expect(span.events.map((event) => event.name)).toEqual(['released']);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('messages run back to back on one worker (a busy period) each get their own span and parent', async () => {
    const storage = new MemoryStreamStorage();
    const router = new Router();
    const active: Array<string | undefined> = [];
    // A synchronous handler: the worker takes the next message in place, without a transition.
    router.on('job', () => void active.push(trace.getActiveSpan()?.spanContext().spanId));
    const producers: string[] = [];
    for (let i = 0; i < 3; i++) {
      await producer.startActiveSpan(`send ${i}`, async (span) => {
        producers.push(span.spanContext().spanId);
        await publish(storage, 's', 'job', { i });
        span.end();
      });
    }
    const runtime = trackRuntime(
      createRuntime({
        storage,
        router,
        logger: testLogger(),
        consumers: [{ stream: 's', group: 'g', startId: '0', concurrency: 1 }],
      }),
    );
    try {
      await runtime.start();
      await eventually(() => consumerSpans().length === 3, 5000, 'three spans');
    } finally {
      await runtime.stop();
    }
    const spans = consumerSpans();
    expect(spans.map((span) => span.parentSpanContext?.spanId)).toEqual(producers);
    expect(active).toEqual(spans.map((span) => span.spanContext().spanId));
  });

  it('ctx.publish carries the consumer span as traceparent to its outputs, after an await too', async () => {
    let traceId = '';
    await withRuntime(
      (router, prefix) =>
        router.on('order.paid', async (_message, ctx) => {
          ctx.publish(`${prefix}:out`, 'sync', {});
          await new Promise((resolve) => setTimeout(resolve, 5));
          ctx.publish(`${prefix}:out`, 'after-await', {});
        }),
      async (stream, storage) => {
        await producer.startActiveSpan('checkout', async (span) => {
          traceId = span.spanContext().traceId;
          await publish(storage, stream, 'order.paid', {});
          span.end();
        });
        await eventually(() => consumerSpans().length === 1, 5000, 'the consumer span');
        const out = stream.replace(/:events$/, ':out');
        await eventually(async () => (await storage.length(out)) === 2, 5000, 'the outputs');
        const [span] = consumerSpans() as [ReadableSpan];
        const parents = (await storage.range(out)).map((entry) => entry.fields.traceparent);
        const expected = `00-${traceId}-${span.spanContext().spanId}-01`;
        expect(span.spanContext().traceId).toBe(traceId);
        expect(parents).toEqual([expected, expected]);
      },
    );
  });
});
