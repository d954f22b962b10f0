import type { ServerResponse } from 'node:http';
import type { Runtime } from '../runtime/runtime.js';

/** What the probes read from a runtime (its public API only). */
export type ProbeSource = Pick<Runtime<unknown>, 'health'>;

/**
 * Answer Kubernetes-style probes, with no token (they reveal only states and reasons):
 * `GET /healthz` 200 while the runtime is live, else 503; `GET /readyz` 200 while every consumer is
 * ready, else 503 with each consumer's reason. Both bodies are JSON. Returns false for other paths.
 *
 * @example
 * if (answerProbe(runtime, url.pathname, res)) return
 */
export function answerProbe(runtime: ProbeSource, pathname: string, res: ServerResponse): boolean {
  if (pathname !== '/healthz' && pathname !== '/readyz') return false;
  const health = runtime.health();
  const ok = pathname === '/healthz' ? health.live : health.ready;
  const body =
    pathname === '/healthz'
      ? { live: health.live, status: health.status }
      : { ready: health.ready, status: health.status, consumers: health.consumers };
  res.writeHead(ok ? 200 : 503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(`${JSON.stringify(body)}\n`);
  return true;
}
