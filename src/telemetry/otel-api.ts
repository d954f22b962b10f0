import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module, as this package uses it. */
export type OtelApiModule = typeof OtelApi;

// `@opentelemetry/api` is an optional peer dependency: loaded once, synchronously (createRequire), so
// createRuntime and publish stay synchronous up to their I/O and work when it is not installed. Its
// CommonJS and ESM builds share one registry (globalThis, Symbol.for keys), so the SDK the host
// registers through either build is the one seen here.
let loaded: OtelApiModule | null | undefined;
let load: () => OtelApiModule | null = requireOtelApi;

function requireOtelApi(): OtelApiModule | null {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApiModule;
  } catch {
    return null;
  }
}

/** `@opentelemetry/api` when it is installed, else `null`. Loaded on first call, then cached. */
export function otelApi(): OtelApiModule | null {
  if (loaded === undefined) loaded = load();
  return loaded;
}

/**
 * Replace how `@opentelemetry/api` is loaded (tests simulate an install without it); `undefined`
 * restores the default. Not part of the public API.
 */
export function setOtelApiLoader(loader: (() => OtelApiModule | null) | undefined): void {
  load = loader ?? requireOtelApi;
  loaded = undefined;
}
