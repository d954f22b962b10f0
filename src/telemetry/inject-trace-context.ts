import { otelApi } from './otel-api.js';

/**
 * Write the active OpenTelemetry context into a message's fields through the global propagator
 * (with the SDK's default, W3C `traceparent` and `tracestate`; `baggage` too when registered). Does
 * nothing when `@opentelemetry/api` is not installed or no propagator is registered.
 *
 * @example
 * const fields: Record<string, string> = { type: 'order.paid' }
 * injectTraceContext(fields) // fields.traceparent === '00-<trace id>-<span id>-01' inside a span
 */
export function injectTraceContext(fields: Record<string, string>): void {
  const api = otelApi();
  if (api !== null) api.propagation.inject(api.context.active(), fields);
}
