/**
 * The dashboard's concurrency control: `POST /api/consumers/<id>/concurrency` with
 * `{ "concurrency": n }` calls `runtime.setConcurrency(id, n)`. It answers 200 `{ id, concurrency }`
 * once the consumer runs `n` workers, or 202 with `pending: true` when that takes longer than
 * `waitMs` (shrinking waits for busy workers to finish their message). The token check is the
 * server's (header only, like the dead-letter actions); this module refuses other origins (403),
 * read-only dashboards (403), unknown consumers (404) and bad counts (400).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { StreamvisorError } from '../errors/streamvisor-error.js';
import type { Runtime } from '../runtime/runtime.js';
import { ApiError, checkOrigin, decodePart, readBody, sendJson } from './dead-letter-http.js';

/** What the control needs of a runtime: its consumers and, to offer the control, `setConcurrency`. */
export type ConcurrencySource = Pick<Runtime<unknown>, 'consumers'> &
  Partial<Pick<Runtime<unknown>, 'setConcurrency'>>;

export interface ConcurrencyApiOptions {
  readOnly: boolean;
  logger: Logger;
  /** How long a request waits for the change before it answers 202, ms. @default 5000 */
  waitMs?: number;
}

/** Answers `/api/consumers/<id>/concurrency`; `handle` resolves `false` for any other path. */
export interface ConcurrencyApi {
  /** Whether the page offers the control (not read-only, and the runtime can change it). */
  readonly offered: boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

const PATH = /^\/api\/consumers\/([^/]+)\/concurrency$/;

/**
 * The concurrency endpoint of a dashboard over `runtime.setConcurrency`.
 *
 * @example
 * const api = createConcurrencyApi(runtime, { readOnly: false, logger })
 * if (await api.handle(req, res, url)) return
 */
export function createConcurrencyApi(
  runtime: ConcurrencySource,
  options: ConcurrencyApiOptions,
): ConcurrencyApi {
  const { logger, readOnly } = options;
  const waitMs = options.waitMs ?? 5000;
  const offered = !readOnly && typeof runtime.setConcurrency === 'function';

  const route = async (req: IncomingMessage, url: URL): Promise<[number, unknown]> => {
    const match = PATH.exec(url.pathname);
    if (match === null) throw new ApiError(404, 'POST /api/consumers/<consumer id>/concurrency');
    if (req.method !== 'POST') throw new ApiError(405, 'use POST with { "concurrency": n }');
    checkOrigin(req);
    if (readOnly) throw new ApiError(403, 'this dashboard is read-only (startDashboard readOnly: true)');
    const setConcurrency = runtime.setConcurrency?.bind(runtime);
    if (setConcurrency === undefined) throw new ApiError(404, 'this runtime cannot change its concurrency');
    const id = decodePart(match[1] ?? '', 'consumer id');
    if (!runtime.consumers.some((c) => c.id === id)) {
      const known = runtime.consumers.map((c) => c.id).join(', ');
      throw new ApiError(404, `no consumer "${id}" in this runtime; consumers: ${known}`);
    }
    const concurrency = await readConcurrency(req);
    const change = setConcurrency(id, concurrency);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), waitMs);
    });
    try {
      const outcome = await Promise.race([change, late]);
      logger.info({ consumerId: id, concurrency }, 'dashboard changed the concurrency');
      if (outcome === 'late') {
        change.catch((error: unknown) => logger.warn({ err: error, consumerId: id }, 'concurrency change'));
        return [202, { id, concurrency, pending: true }];
      }
      return [200, { id, concurrency }];
    } catch (error) {
      if (error instanceof RangeError) throw new ApiError(400, error.message);
      if (error instanceof StreamvisorError && error.code === 'RUNTIME_STATE')
        throw new ApiError(409, error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    offered,
    async handle(req, res, url) {
      if (!url.pathname.startsWith('/api/consumers/')) return false;
      try {
        const [status, body] = await route(req, url);
        sendJson(res, status, body);
      } catch (error) {
        if (error instanceof ApiError) sendJson(res, error.status, { error: error.message });
        else {
          logger.error({ err: error, url: url.pathname }, 'concurrency request failed');
          sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
        }
      }
      return true;
    },
  };
}

async function readConcurrency(req: IncomingMessage): Promise<number> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, 'the body is not JSON; send { "concurrency": n }');
  }
  const concurrency = (body as { concurrency?: unknown } | null)?.concurrency;
  if (typeof concurrency !== 'number')
    throw new ApiError(400, 'send { "concurrency": n } with n an integer from 1 to 1024');
  return concurrency;
}
