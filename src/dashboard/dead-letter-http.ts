// JSON in and out for the dashboard's actions (dead letters, concurrency): errors that say what to change.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeadLetterAction, DeadLetterTarget } from '../wire/dead-letter-actions.js';

/** Bodies are small (`{ ids: [...] }`): anything larger is refused before it is parsed. */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_IDS = 1000;
const STREAM_ID = /^\d+(-\d+)?$/;

/** A refusal with its HTTP status; `extra` is merged into the JSON body beside `error`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.extra = extra;
  }
}

/**
 * Answer with a JSON body, never cached.
 *
 * @example
 * sendJson(res, 404, { error: 'no dead letter 1-0 in orders:dead' })
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(JSON.stringify(body));
}

/**
 * Actions only from the dashboard's own page: a browser always sends `Origin` with a cross-site POST.
 *
 * @example
 * checkOrigin(req) // throws ApiError(403) for Origin: https://evil.example
 */
/** A URL path part, decoded; a malformed escape is the client's error (400 naming `what`), not ours. */
export function decodePart(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ApiError(400, `"${part}" is not a valid URL-encoded ${what}`);
  }
}

export function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const host = req.headers.host;
  if (host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`)) {
    throw new ApiError(403, `actions are accepted only from the dashboard's own page, not from ${origin}`);
  }
}

/**
 * The body of a JSON request, at most 256 KiB.
 *
 * @example
 * const body = JSON.parse(await readBody(req))
 */
export async function readBody(req: IncomingMessage): Promise<string> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, 'send the action as JSON: Content-Type: application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const SHAPE = '{ "ids": ["1-0", …] }, { "reason": "handler-error" } or { "all": true }';

/**
 * Parse an action's body: exactly one of `ids`, `reason`, `all: true`; a purge also needs
 * `confirm: true` (the dashboard's confirmation, as `--yes` is the CLI's).
 *
 * @example
 * const target = await readTarget(req, 'replay') // { ids: ['1-0'] }
 */
export async function readTarget(req: IncomingMessage, action: DeadLetterAction): Promise<DeadLetterTarget> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, `the body is not JSON; send ${SHAPE}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, `send a JSON object: ${SHAPE}`);
  }
  const { ids, reason, all, confirm } = body as Record<string, unknown>;
  const given = [ids !== undefined, reason !== undefined, all !== undefined].filter(Boolean).length;
  if (given !== 1) throw new ApiError(400, `say which dead letters to ${action}: exactly one of ${SHAPE}`);
  if (action === 'purge' && confirm !== true) {
    throw new ApiError(400, 'purge deletes dead letters for good: send "confirm": true');
  }
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS) {
      throw new ApiError(400, `ids must be a non-empty array of at most ${MAX_IDS} dead-letter ids`);
    }
    const bad = ids.filter((id) => typeof id !== 'string' || !STREAM_ID.test(id));
    if (bad.length > 0) {
      throw new ApiError(400, `ids must be stream ids like 1700000000000-0, got ${JSON.stringify(bad[0])}`);
    }
    return { ids: ids as string[] };
  }
  if (reason !== undefined) {
    if (typeof reason !== 'string' || reason === '') {
      throw new ApiError(400, 'reason must be a non-empty string such as "handler-error"');
    }
    return { reason };
  }
  if (all !== true) throw new ApiError(400, 'all must be true');
  return { all: true };
}
