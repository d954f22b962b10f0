import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import { DEFAULT_MAX_DEAD_LETTER_BYTES } from '../wire/dead-letters.js';
import { createTokenCheck } from './auth.js';
import { type ConcurrencySource, createConcurrencyApi } from './concurrency-api.js';
import { createDeadLetterApi } from './dead-letter-api.js';
import { sendJson } from './dead-letter-http.js';
import { createHostCheck } from './host-check.js';
import { type DashboardSource, LiveFeed } from './live-feed.js';
import { createMetrics, type MetricsSource } from './metrics.js';
import { answerProbe, type ProbeSource } from './probes.js';
import { SseHub, sseMessage } from './sse.js';
import { buildStatecharts } from './statechart.js';

export interface DashboardOptions {
  /** TCP port; 0 picks a free one (read it from `url`). */
  port: number;
  /** Interface to bind. Anything but loopback exposes the runtime's state: set `token` then. @default '127.0.0.1' */
  host?: string;
  /**
   * More names the dashboard answers to, besides the loopback names (`localhost`, `127.0.0.1`,
   * `[::1]`) and `host` (unless a wildcard like `0.0.0.0`) on its own port, and any IP literal (an
   * address cannot be rebound): a request whose `Host` is none of them gets 403, so a page on another
   * name that resolves here (DNS rebinding) reads nothing. A name alone (`'dash.internal'`) matches on
   * any port, as behind a proxy; `'dash.internal:4000'` only on that port. The probes (`/healthz`,
   * `/readyz`) answer whatever the `Host`.
   * @default []
   */
  allowedHosts?: string[];
  /** When set, every route but the static assets and the probes (`/healthz`, `/readyz`) needs `Authorization: Bearer <token>`; the page and its event stream also accept `?token=`. */
  token?: string;
  /** How often the runtime is sampled while a page watches, ms. @default 100 */
  sampleMs?: number;
  /** How often XINFO GROUPS is read while a page watches, ms. @default 1000 */
  groupPollMs?: number;
  /**
   * How far back the live charts (processed/s, in flight, pending, lag per consumer) reach, ms ≥ 10000.
   * While no page watches, a point is still taken every 5 s, so a page opened later shows them. @default 300000
   */
  historyMs?: number;
  /**
   * Show the dead letters without the replay and purge buttons and the consumers without the
   * concurrency control, and refuse those actions (403). @default false
   */
  readOnly?: boolean;
  /**
   * Largest dead letter the page's detail view (`GET /api/dead-letters/<stream>/<id>`) reads whole,
   * bytes (integer ≥ 1); a bigger one answers 413 with its size, without being read. Lists always
   * show a preview (values cut to 1 KiB on the Redis server), whatever the size. @default 1048576 (1 MiB)
   */
  maxDeadLetterBytes?: number;
  /** Dead-letter actions are logged here at `info`. @default pino at level 'warn' */
  logger?: Logger;
}

export interface Dashboard {
  /** The page, e.g. `http://127.0.0.1:4000/` (without the token). */
  readonly url: string;
  /** Stop serving: ends every event stream and closes the server. Idempotent. */
  close(): Promise<void>;
}

/** Everything the page needs, read once from `page/` beside this module (copied to dist by the build). */
const ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'dead-letters.js': 'text/javascript; charset=utf-8',
  'trends.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'overview.js': 'text/javascript; charset=utf-8',
  'detail.js': 'text/javascript; charset=utf-8',
  'partitions.js': 'text/javascript; charset=utf-8',
  'concurrency.js': 'text/javascript; charset=utf-8',
  'timeline.js': 'text/javascript; charset=utf-8',
  'trends.css': 'text/css; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'overview.css': 'text/css; charset=utf-8',
  'dead-letters.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const;

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** The request target as a URL, or null when it is not one (`GET //[` would make `new URL` throw). */
function parseTarget(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', 'http://dashboard.invalid');
  } catch {
    return null;
  }
}

async function loadAssets(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(ASSETS)) {
    files.set(name, await readFile(new URL(`./page/${name}`, import.meta.url)));
  }
  return files;
}

function validate(options: DashboardOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Expected `options` to be an object like { port: 4000 }');
  }
  const { port, host, token } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`Expected \`port\` to be an integer from 0 to 65535, got ${String(port)}`);
  }
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    throw new TypeError(`Expected \`host\` to be a non-empty string, got ${String(host)}`);
  }
  if (token !== undefined && (typeof token !== 'string' || token === '')) {
    throw new TypeError('Expected `token` to be a non-empty string');
  }
  const { allowedHosts } = options;
  if (
    allowedHosts !== undefined &&
    (!Array.isArray(allowedHosts) || allowedHosts.some((name) => typeof name !== 'string' || name === ''))
  ) {
    throw new TypeError("Expected `allowedHosts` to be an array of host names like ['dash.internal']");
  }
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') {
    throw new TypeError(`Expected \`readOnly\` to be a boolean, got ${String(options.readOnly)}`);
  }
  for (const key of ['sampleMs', 'groupPollMs'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isFinite(value) || value < 10)) {
      throw new TypeError(`Expected \`${key}\` to be a number ≥ 10 (ms), got ${String(value)}`);
    }
  }
  const { historyMs, maxDeadLetterBytes: maxBytes } = options;
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
    throw new TypeError(
      `Expected \`maxDeadLetterBytes\` to be an integer ≥ 1 (bytes), got ${String(maxBytes)}`,
    );
  }
  if (historyMs !== undefined && (!Number.isFinite(historyMs) || historyMs < 10_000)) {
    throw new TypeError(`Expected \`historyMs\` to be a number ≥ 10000 (ms), got ${String(historyMs)}`);
  }
}

/**
 * Serve a live page of the runtime: the supervisor → consumers → dispatch workers tree with each
 * machine's statechart (current state highlighted), per-consumer counters, the group's pending count
 * and lag, a timeline of lifecycle events; `/metrics` in Prometheus text format; and the probes
 * `/healthz` and `/readyz` (200 / 503, JSON, no token: see `runtime.health()`). The page updates
 * over Server-Sent Events with at most one aggregated diff per `sampleMs`. Uses only the runtime's
 * public API; every asset is served from the package (no CDN).
 *
 * @example
 * const dashboard = await startDashboard(runtime, { port: 4000 })
 * process.stdout.write(`dashboard: ${dashboard.url}\n`)
 * process.once('SIGTERM', () => dashboard.close())
 */
export async function startDashboard(
  runtime: DashboardSource & MetricsSource & ProbeSource & ConcurrencySource,
  options: DashboardOptions,
): Promise<Dashboard> {
  validate(options);
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino({ level: 'warn', name: 'streamvisor-dashboard' });
  if (options.token === undefined && !['127.0.0.1', '::1', 'localhost'].includes(host)) {
    logger.warn({ host }, 'dashboard bound to a non-loopback interface without a token');
  }
  const [assets, charts] = await Promise.all([loadAssets(), buildStatecharts()]);
  const authorized = createTokenCheck(options.token);
  const metrics = createMetrics(runtime);
  const deadLetters = createDeadLetterApi(runtime, {
    readOnly: options.readOnly === true,
    maxDeadLetterBytes: options.maxDeadLetterBytes ?? DEFAULT_MAX_DEAD_LETTER_BYTES,
    logger,
    registry: metrics.registry,
  });
  const concurrency = createConcurrencyApi(runtime, { readOnly: options.readOnly === true, logger });
  const controls = { concurrency: concurrency.offered };
  const hub = new SseHub((count) => feed.setWatched(count > 0));
  const feed: LiveFeed = new LiveFeed(runtime, {
    sampleMs: options.sampleMs ?? 100,
    groupPollMs: options.groupPollMs ?? 1000,
    ...(options.historyMs === undefined ? {} : { historyMs: options.historyMs }),
    send: (update) => hub.broadcast(sseMessage('update', update)),
  });

  const sendAsset = (res: ServerResponse, name: keyof typeof ASSETS) => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': ASSETS[name],
      'Cache-Control': name === 'index.html' ? 'no-store' : 'no-cache',
    });
    res.end(assets.get(name));
  };
  const deny = (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
    res.end(`${text}\n`);
  };

  const unauthorized = (res: ServerResponse) =>
    deny(res, 401, 'Unauthorized: send Authorization: Bearer <token>', {
      'WWW-Authenticate': 'Bearer realm="streamvisor"',
    });

  let allowedHost = (_host: string | undefined) => false; // set once the port is known
  const misdirected = (res: ServerResponse, host: string | undefined) =>
    deny(
      res,
      403,
      `Forbidden: this dashboard does not answer to the Host ${JSON.stringify(host ?? '')}; ` +
        "list the name in startDashboard's `allowedHosts` option (a guard against DNS rebinding)",
    );

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = parseTarget(req.url);
    if (url === null) {
      logger.debug({ url: req.url }, 'dashboard request with a malformed target');
      return deny(res, 400, 'Bad Request: the request target is not a valid URL path');
    }
    const probe = url.pathname === '/healthz' || url.pathname === '/readyz';
    // Probes come from the kubelet with the pod's IP as Host, and reveal only states: no Host check.
    if (!probe && !allowedHost(req.headers.host)) return misdirected(res, req.headers.host);
    const deadLetterPath =
      url.pathname === '/api/dead-letters' || url.pathname.startsWith('/api/dead-letters/');
    if (deadLetterPath || url.pathname.startsWith('/api/consumers/')) {
      // Only the header: a token in a URL could be sent by a link on another site.
      if (!authorized(req, url, false)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="streamvisor"');
        return sendJson(res, 401, { error: 'send the dashboard token: Authorization: Bearer <token>' });
      }
      if (deadLetterPath) await deadLetters.handle(req, res, url);
      else await concurrency.handle(req, res, url);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return deny(res, 405, 'Method Not Allowed', { Allow: 'GET' });
    if (answerProbe(runtime, url.pathname, res)) return; // no token: probes carry no secret
    if (url.pathname === '/favicon.ico') return sendAsset(res, 'favicon.svg'); // browsers ask without a link
    const asset = /^\/assets\/([a-z-]+\.(?:js|css|svg))$/.exec(url.pathname)?.[1];
    if (asset !== undefined && asset in ASSETS) return sendAsset(res, asset as keyof typeof ASSETS);
    const page = url.pathname === '/' || url.pathname === '/index.html';
    const events = url.pathname === '/events';
    if (!page && !events && url.pathname !== '/metrics') return deny(res, 404, 'Not Found');
    if (!authorized(req, url, page || events)) return unauthorized(res);
    if (page) return sendAsset(res, 'index.html');
    if (events) {
      const { view, timeline, trends } = feed.current();
      return hub.open(res, sseMessage('init', { charts, view, timeline, trends, controls }));
    }
    const body = await metrics.metrics();
    res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
    res.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'dashboard request failed');
      if (!res.headersSent) deny(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  allowedHost = createHostCheck({ host, port, allowedHosts: options.allowedHosts ?? [] });
  const shownHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}/`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        feed.close();
        hub.closeAll();
        metrics.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
