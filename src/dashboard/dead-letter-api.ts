/**
 * The dashboard's dead-letter endpoints, under `/api/dead-letters`:
 * - `GET  /api/dead-letters` → `{ readOnly, streams: [{ stream, deadStream }] }`;
 * - `GET  /api/dead-letters/<stream>?reason=&before=&limit=` → a page, newest first, with counts by
 *   reason; each letter a preview (values cut to 1 KiB, on the Redis server) with its full `bytes`;
 * - `GET  /api/dead-letters/<stream>/<id>` → one whole dead letter, or 413 when it is over
 *   `maxDeadLetterBytes` (it is then not read);
 * - `POST /api/dead-letters/<stream>/replay|purge` with `{ ids } | { reason } | { all: true }`
 *   (purge also `confirm: true`) → what was touched.
 * The actions are the CLI's (`streamvisor dlq replay|purge`, src/wire/dead-letter-actions.ts).
 * The token check is the server's; this module refuses other origins, read-only dashboards and bad input.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import {
  type DeadLetterAction,
  DeadLetterTargetError,
  purgeDeadLetters,
  ReplayError,
  replayDeadLetters,
  resolveDeadLetters,
} from '../wire/dead-letter-actions.js';
import { readDeadLetterPage } from '../wire/dead-letter-page.js';
import { DeadLetterTooLargeError, loadDeadLetter } from '../wire/dead-letters.js';
import { ApiError, checkOrigin, decodePart, readTarget, sendJson } from './dead-letter-http.js';
import type { DashboardSource } from './live-feed.js';

const STREAM_ID = /^\d+(-\d+)?$/;
/** At most this many ids are written into one log line. */
const LOGGED_IDS = 100;

export interface DeadLetterApiOptions {
  readOnly: boolean;
  /** Largest dead letter the detail endpoint reads whole, bytes. */
  maxDeadLetterBytes: number;
  logger: Logger;
  /** Where the action counters are registered (the dashboard's `/metrics`). */
  registry: Registry;
}

/** Answers `/api/dead-letters…`; `handle` resolves `false` for any other path. */
export interface DeadLetterApi {
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

/**
 * The dead-letter endpoints of a dashboard over `runtime.storage`, for every stream its consumers read.
 *
 * @example
 * const api = createDeadLetterApi(runtime, { readOnly: false, logger, registry: metrics.registry })
 * if (await api.handle(req, res, url)) return
 */
export function createDeadLetterApi(runtime: DashboardSource, options: DeadLetterApiOptions): DeadLetterApi {
  const { logger, readOnly } = options;
  const streams = new Map<string, string>();
  for (const c of runtime.consumers) if (!streams.has(c.stream)) streams.set(c.stream, c.deadLetter.stream);
  const actions = new Counter({
    name: 'streamvisor_dashboard_dead_letter_actions_total',
    help: 'Dead-letter actions asked for on the dashboard, by outcome (ok, refused, failed).',
    labelNames: ['stream', 'action', 'outcome'],
    registers: [options.registry],
  });
  const touched = new Counter({
    name: 'streamvisor_dashboard_dead_letters_touched_total',
    help: 'Dead letters replayed or purged from the dashboard.',
    labelNames: ['stream', 'action'],
    registers: [options.registry],
  });

  const deadStreamOf = (stream: string): string => {
    const dead = streams.get(stream);
    if (dead === undefined) {
      throw new ApiError(
        404,
        `no consumer of this runtime reads stream "${stream}"; streams: ${[...streams.keys()].join(', ')}`,
      );
    }
    return dead;
  };

  const list = async (stream: string, url: URL) => {
    const deadStream = deadStreamOf(stream);
    const limitText = url.searchParams.get('limit') ?? '20';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw new ApiError(400, `limit must be an integer from 1 to 500, got "${limitText}"`);
    }
    const before = url.searchParams.get('before');
    if (before !== null && !STREAM_ID.test(before)) {
      throw new ApiError(400, `before must be a stream id like 1700000000000-0, got "${before}"`);
    }
    const reason = url.searchParams.get('reason');
    const page = await readDeadLetterPage(runtime.storage, deadStream, {
      sourceStream: stream,
      limit,
      ...(reason === null || reason === '' ? {} : { reason }),
      ...(before === null ? {} : { before }),
    });
    return { stream, deadStream, readOnly, ...page };
  };

  const show = async (stream: string, id: string) => {
    const deadStream = deadStreamOf(stream);
    if (!STREAM_ID.test(id)) throw new ApiError(400, `a dead-letter id is a stream id like 1-0, got "${id}"`);
    const letter = await loadDeadLetter(runtime.storage, deadStream, id, {
      maxBytes: options.maxDeadLetterBytes,
    });
    if (letter === undefined) throw new ApiError(404, `no dead letter ${id} in ${deadStream}`);
    return { stream, deadStream, letter };
  };

  const act = async (stream: string, action: DeadLetterAction, req: IncomingMessage) => {
    const deadStream = deadStreamOf(stream);
    const target = await readTarget(req, action);
    const letters = await resolveDeadLetters(runtime.storage, deadStream, target, {
      action,
      sourceStream: stream,
      requireMatch: true,
    });
    const ids = letters.map((l) => l.id);
    const logged = { stream, deadStream, target: 'ids' in target ? 'ids' : target, count: ids.length };
    if (action === 'purge') {
      const purged = await purgeDeadLetters(runtime.storage, deadStream, ids);
      logger.info({ ...logged, ids: ids.slice(0, LOGGED_IDS), purged }, 'dashboard purged dead letters');
      touched.inc({ stream, action }, purged);
      return { stream, deadStream, purged: ids };
    }
    try {
      const replayed = await replayDeadLetters(runtime.storage, deadStream, letters, stream);
      logger.info({ ...logged, replayed: replayed.slice(0, LOGGED_IDS) }, 'dashboard replayed dead letters');
      touched.inc({ stream, action }, replayed.length);
      return { stream, deadStream, replayed };
    } catch (error) {
      if (!(error instanceof ReplayError)) throw error;
      touched.inc({ stream, action }, error.replayed.length);
      logger.error(
        { ...logged, err: error, replayed: error.replayed.slice(0, LOGGED_IDS), failedId: error.failedId },
        'dashboard replay stopped: a message could not be written back',
      );
      throw new ApiError(503, error.message, {
        replayed: error.replayed,
        notReplayed: error.remaining,
      });
    }
  };

  const route = async (req: IncomingMessage, url: URL): Promise<unknown> => {
    const parts = url.pathname
      .split('/')
      .slice(3)
      .map((part) => decodePart(part, 'path part'));
    const [stream, sub] = parts;
    if (req.method === 'POST') {
      if (parts.length !== 2 || stream === undefined || (sub !== 'replay' && sub !== 'purge')) {
        throw new ApiError(404, 'POST /api/dead-letters/<stream>/replay or /api/dead-letters/<stream>/purge');
      }
      checkOrigin(req);
      if (readOnly) throw new ApiError(403, 'this dashboard is read-only (startDashboard readOnly: true)');
      try {
        const result = await act(stream, sub, req);
        actions.inc({ stream, action: sub, outcome: 'ok' });
        return result;
      } catch (error) {
        const outcome = error instanceof ApiError && error.status < 500 ? 'refused' : 'failed';
        if (streams.has(stream)) actions.inc({ stream, action: sub, outcome });
        throw error;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new ApiError(405, 'use GET, or POST for actions');
    if (parts.length === 0) {
      return { readOnly, streams: [...streams].map(([s, deadStream]) => ({ stream: s, deadStream })) };
    }
    if (parts.length === 1 && stream !== undefined) return list(stream, url);
    if (parts.length === 2 && stream !== undefined && sub !== undefined) return show(stream, sub);
    throw new ApiError(404, 'no such endpoint under /api/dead-letters');
  };

  return {
    async handle(req, res, url) {
      if (url.pathname !== '/api/dead-letters' && !url.pathname.startsWith('/api/dead-letters/'))
        return false;
      try {
        sendJson(res, 200, await route(req, url));
      } catch (error) {
        if (error instanceof ApiError) sendJson(res, error.status, { error: error.message, ...error.extra });
        else if (error instanceof DeadLetterTooLargeError) {
          sendJson(res, 413, {
            error: `${error.message}: the list shows its preview; read it whole with \`streamvisor dlq show --id ${error.id} --max-bytes ${error.bytes}\`, or raise startDashboard's \`maxDeadLetterBytes\``,
            id: error.id,
            bytes: error.bytes,
            limit: error.limit,
          });
        } else if (error instanceof DeadLetterTargetError) {
          sendJson(res, error.problem === 'other-stream' ? 400 : 404, {
            error: error.message,
            problem: error.problem,
            subjects: error.subjects,
          });
        } else {
          logger.error({ err: error, url: url.pathname }, 'dead-letter request failed');
          const text = error instanceof Error ? error.message : String(error);
          sendJson(res, 503, { error: `cannot reach the dead letters: ${text}; is Redis up?` });
        }
      }
      return true;
    },
  };
}
