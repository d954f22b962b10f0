import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { StreamEntry } from '../storage/stream-storage.js';
import { type OtelApiModule, otelApi } from './otel-api.js';

/** The instrumentation scope name of every span streamvisor starts. */
export const TRACER_NAME = 'streamvisor';

/** The part of a consumer's resolved spec its spans describe. */
export interface TracedConsumer {
  readonly id: string;
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
}

/**
 * Check the runtime option `telemetry` (createRuntime calls this).
 *
 * @throws TypeError when it is neither `undefined` nor a boolean.
 */
export function assertTelemetryOption(value: unknown): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(
      `Expected \`telemetry\` to be a boolean (false turns tracing off; leave it out to trace whenever an OpenTelemetry SDK is registered), got ${typeof value} ${JSON.stringify(value) ?? String(value)}`,
    );
  }
}

/**
 * Decide once, at `runtime.start()`, whether messages are traced: `telemetry` is not `false`,
 * `@opentelemetry/api` is installed, and an SDK has registered a tracer provider. Otherwise `null`,
 * and the per-message path makes no span, no context and no closure (an SDK registered after
 * start is not seen: register it first, as OpenTelemetry's own setup asks).
 */
export function startTracing(option: boolean | undefined, logger: Logger): Tracing | null {
  if (option === false) return null;
  const api = otelApi();
  if (api === null) {
    if (option === true) logger.warn('telemetry is true but @opentelemetry/api is not installed: no traces');
    return null;
  }
  if (!hasTracerProvider(api)) {
    const text = 'no OpenTelemetry tracer provider is registered: messages are not traced';
    if (option === true) logger.warn(text);
    else logger.debug(text);
    return null;
  }
  return new Tracing(api, api.trace.getTracer(TRACER_NAME));
}

/**
 * Whether an SDK registered a tracer provider. The API's global provider is a proxy whose delegate
 * is the API's no-op provider until `trace.setGlobalTracerProvider` (which every SDK calls).
 */
function hasTracerProvider(api: OtelApiModule): boolean {
  const provider = api.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  return delegate !== new api.ProxyTracerProvider().getDelegate();
}

/** Tracing for one runtime: hands each consumer its `MessageTracer`. */
export class Tracing {
  readonly #api: OtelApiModule;
  readonly #tracer: Tracer;

  constructor(api: OtelApiModule, tracer: Tracer) {
    this.#api = api;
    this.#tracer = tracer;
  }

  forConsumer(spec: TracedConsumer, logger: Logger): MessageTracer {
    return new MessageTracer(this.#api, this.#tracer, spec, logger);
  }
}

/** Starts the CONSUMER span of each message one consumer handles. */
export class MessageTracer {
  readonly #api: OtelApiModule;
  readonly #tracer: Tracer;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #attributes: Attributes;

  constructor(api: OtelApiModule, tracer: Tracer, spec: TracedConsumer, logger: Logger) {
    this.#api = api;
    this.#tracer = tracer;
    this.#logger = logger;
    this.#name = `process ${spec.stream}`;
    this.#attributes = {
      'messaging.system': 'redis',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': spec.stream,
      'messaging.consumer.group.name': spec.group,
      'messaging.client.id': spec.consumer,
      'streamvisor.consumer.id': spec.id,
    };
  }

  /**
   * Start the span of a message, as a child of the producer's context extracted from its fields by
   * the global propagator (`traceparent`, `tracestate`). A header that does not parse starts a new
   * trace and is logged at debug; it never fails the message.
   */
  start(entry: StreamEntry): MessageTrace {
    const api = this.#api;
    const parent = api.propagation.extract(api.ROOT_CONTEXT, entry.fields);
    const traceparent = entry.fields.traceparent;
    if (traceparent !== undefined && !isValidParent(api, parent)) {
      this.#logger.debug(
        { messageId: entry.id, traceparent },
        'malformed traceparent header: the message starts a new trace',
      );
    }
    const attributes: Attributes = {
      ...this.#attributes,
      'messaging.message.id': entry.id,
      'streamvisor.message.deliveries': entry.deliveries,
    };
    const type = entry.fields.type;
    if (type !== undefined) attributes['streamvisor.message.type'] = type;
    const span = this.#tracer.startSpan(this.#name, { kind: api.SpanKind.CONSUMER, attributes }, parent);
    return new MessageTrace(api, span, api.trace.setSpan(parent, span));
  }
}

function isValidParent(api: OtelApiModule, context: Context): boolean {
  const spanContext = api.trace.getSpanContext(context);
  return spanContext !== undefined && api.trace.isSpanContextValid(spanContext);
}

/**
 * One message's span, from its first attempt to its settlement (ack, dead letter, scheduled retry,
 * or left pending by a stop). In-process retries are events on it, not spans of their own.
 */
export class MessageTrace {
  readonly #api: OtelApiModule;
  readonly span: Span;
  /** The context handlers run in: the producer's context with this span active. */
  readonly context: Context;

  constructor(api: OtelApiModule, span: Span, context: Context) {
    this.#api = api;
    this.span = span;
    this.context = context;
  }

  /** Call `fn(...args)` with this span active (`trace.getActiveSpan()` returns it), no closure. */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return this.#api.context.with(this.context, fn, undefined, ...args);
  }

  /** Attempt `attempt` failed and another follows after `delayMs`. */
  retrying(attempt: number, delayMs: number, error: string): void {
    this.span.addEvent('retry', {
      'streamvisor.attempt': attempt,
      'streamvisor.retry.delay_ms': delayMs,
      'exception.message': error,
    });
  }

  /** The message went to the retry scheduler for durable re-delivery after `delayMs`. */
  scheduled(retryAttempt: number, delayMs: number, error: string): void {
    this.span.addEvent('retry.scheduled', {
      'streamvisor.retry.scheduled_attempt': retryAttempt,
      'streamvisor.retry.delay_ms': delayMs,
      'exception.message': error,
    });
  }

  /** The message was dead-lettered: the span's status is ERROR and `error.type` the reason. */
  deadLettered(reason: string, error: string, deadLetterStream: string, deadLetterId: string): void {
    this.span.setAttribute('error.type', reason);
    this.span.addEvent('dead_letter', {
      'streamvisor.dead_letter.reason': reason,
      'streamvisor.dead_letter.stream': deadLetterStream,
      'streamvisor.dead_letter.id': deadLetterId,
      'exception.message': error,
    });
    this.span.setStatus({
      code: this.#api.SpanStatusCode.ERROR,
      message: `dead-lettered (${reason}): ${error}`,
    });
  }

  /** A stop aborted the message: it stays pending and is handled again later. */
  released(): void {
    this.span.addEvent('released');
  }

  /** End the span: the message is settled, or left pending. */
  end(): void {
    this.span.end();
  }
}
