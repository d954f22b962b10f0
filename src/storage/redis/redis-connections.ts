import { createRequire } from 'node:module';
import type { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { RedisCommandError } from '../../errors/redis-command-error.js';
import type { RedisClient } from './redis-blocking-reads.js';
import type { SendCommand } from './redis-scripts.js';
import type { ParsedRedisUrl } from './redis-url.js';

// Options of every connection the storage creates itself. The aim: a command issued while Redis is
// down fails within about two seconds with a connection error instead of waiting forever.
// - protocol 2: the one reply shape of ioredis 5 and 6 alike (the parsers read RESP3 too, for
//   clients the application passes in; see redis-client.ts).
// - maxRetriesPerRequest 1 + a retry delay capped at 1 s: queued commands are failed after the second
//   failed reconnect (ioredis' default, 20 retries, means a minute or more).
// - connectTimeout 2 s: a host that swallows SYNs fails like one that refuses.
// - commandTimeout (non-blocking connection only): a paused or half-open server fails commands too.
const RECONNECT_CAP_MS = 1000;

/** Reconnect delays: 50, 100, 200 … ms capped at 1 s, plus up to 50 ms of jitter. */
function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 10), RECONNECT_CAP_MS) + Math.floor(Math.random() * 50);
}

/** ioredis options for the storage's own connections (before the caller's `redis` overrides). */
export function ownConnectionOptions(commandTimeoutMs: number): RedisOptions {
  return {
    protocol: 2,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: retryDelay,
    commandTimeout: commandTimeoutMs,
  };
}

const require = createRequire(import.meta.url);

/**
 * ioredis, loaded the first time the storage creates a connection itself (`fromUrl`): a user who
 * passes their own client, or runs on the memory storage, does not pay its ~20 MB at import.
 */
function ioredis(): typeof import('ioredis') {
  return require('ioredis') as typeof import('ioredis');
}

/** Create the main connection (a `Redis` or a `Cluster`) described by a parsed URL. */
export function connectFromUrl(parsed: ParsedRedisUrl, base: RedisOptions, extra: RedisOptions): RedisClient {
  const auth: RedisOptions = {};
  if (parsed.username !== undefined) auth.username = parsed.username;
  if (parsed.password !== undefined) auth.password = parsed.password;
  const first = parsed.addresses[0] ?? { host: '127.0.0.1', port: 6379 };
  if (parsed.mode === 'cluster') {
    const redisOptions = nodeOptions({ ...base, ...auth, ...extra, protocol: 2 });
    if (parsed.tls) redisOptions.tls = {};
    const nodes = parsed.addresses.map((address) => ({ host: address.host, port: address.port }));
    return new (ioredis().Cluster)(nodes, {
      redisOptions,
      enableOfflineQueue: true,
      clusterRetryStrategy: retryDelay,
    });
  }
  const options: RedisOptions & { replyMapping: 'legacy' } = {
    ...base,
    ...auth,
    ...extra,
    host: first.host,
    port: first.port,
    db: parsed.db,
    protocol: 2,
    replyMapping: 'legacy',
  };
  if (parsed.tls) options.tls = { servername: first.host, ...(extra.tls ?? {}) };
  return new (ioredis().Redis)(options);
}

/** Redis' reply to SELECT of a database it does not have (7.x: `ERR DB index is out of range`). */
export const MISSING_DB = /DB index is out of range|invalid DB index/i;

/**
 * The error for a URL whose database the server does not have, naming the URL (password redacted).
 *
 * @example
 * missingDatabase('redis://cache:6379/99', 99, 'ERR DB index is out of range')
 */
export function missingDatabase(where: string, db: number, reply: string): RedisCommandError {
  return new RedisCommandError(
    `SELECT ${db} for ${where}`,
    `${reply}: the server has no database ${db} (it has \`databases\` of them, 16 unless its config says otherwise, numbered from 0); use one it has in the URL, or raise \`databases\``,
  );
}

/**
 * ioredis only emits SELECT's error and carries on in database 0, so a URL with a database the
 * server lacks would read and write db 0 in silence. This closes the connection on that error and
 * makes every command fail with `missingDatabase`; the first command also waits for one PING, which
 * the server answers after SELECT (ioredis 5 sends queued commands without waiting for SELECT).
 */
export function guardDatabase(
  client: RedisClient,
  db: number,
  where: string,
): (send: SendCommand) => SendCommand {
  if (db === 0 || isCluster(client)) return (send) => send;
  let fatal: Error | null = null;
  client.on('error', (error: unknown) => {
    if (fatal !== null || !(error instanceof Error) || !MISSING_DB.test(error.message)) return;
    fatal = missingDatabase(where, db, error.message);
    client.disconnect();
  });
  let checked: Promise<void> | null = null;
  const check = (): Promise<void> => {
    const pending =
      checked ??
      client.call('PING').then(
        () => {
          if (fatal !== null) throw fatal;
        },
        (error: unknown) => {
          checked = null; // Redis down: check again with the next command
          throw fatal ?? error;
        },
      );
    checked = pending;
    return pending;
  };
  return (send) =>
    async (command, ...args) => {
      await check();
      try {
        return await send(command, ...args);
      } catch (error) {
        throw fatal ?? error;
      }
    };
}

/** A dedicated connection for blocking reads: same server and credentials, never re-sends a lost read. */
export function duplicateForReads(client: RedisClient): RedisClient {
  const override: RedisOptions = {
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: undefined,
    blockingTimeout: undefined,
    lazyConnect: false,
  };
  if (isCluster(client)) {
    const redisOptions = nodeOptions({ ...client.options.redisOptions, ...override });
    return client.duplicate(undefined, { redisOptions });
  }
  return client.duplicate(override);
}

type ClusterNodeOptions = Omit<NonNullable<ClusterOptions['redisOptions']>, 'replyMapping'>;

/** Per-node options of a Cluster: the cluster itself owns retries, the offline queue and addresses. */
function nodeOptions(options: RedisOptions): ClusterNodeOptions {
  const {
    host: _host,
    port: _port,
    path: _path,
    sentinels: _sentinels,
    retryStrategy: _retry,
    enableOfflineQueue: _queue,
    readOnly: _readOnly,
    himportFieldsets: _himport,
    replyMapping: _mapping, // typed per Cluster; the parsers read either mapping, so nodes use the default
    ...rest
  } = options;
  return rest;
}

/** `Cluster` vs `Redis` without `instanceof` (works across copies of ioredis). */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster === true;
}

/** QUIT, but give up after `timeoutMs` and drop the socket: resolves even when Redis is unreachable. */
export async function closeConnection(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

const readiness = new WeakMap<RedisClient, Promise<void>>();

/**
 * Resolves when `client` is ready; rejects after `timeoutMs` (or at once when it was closed for good).
 * One shared wait per client, so many queued commands add a single listener.
 */
function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new Error('Connection is closed.'));
  const shared = readiness.get(client);
  if (shared !== undefined) return shared;
  if (client.status === 'wait') client.connect().catch(() => undefined);
  const wait = new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`not ready within ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    client.once('ready', onReady);
  }).finally(() => readiness.delete(client));
  readiness.set(client, wait);
  return wait;
}

/**
 * The sends of a storage on `client`: `call`, and `callBuffer` for Buffer replies (the bytes of
 * entries that are not UTF-8: redis-exact-entries.ts), `undefined` when the client has none. ioredis
 * keeps commands for a Cluster with no reachable node in an offline queue forever, so on a Cluster
 * each send waits for it to be ready at most `readyTimeoutMs`, then fails with ConnectionError.
 */
export function clientSends(
  client: RedisClient,
  readyTimeoutMs: number,
): { send: SendCommand; sendBuffer: SendCommand | undefined } {
  const callBuffer = client.callBuffer?.bind(client);
  const ready = (call: SendCommand): SendCommand =>
    isCluster(client)
      ? async (command, ...args) => {
          if (client.status !== 'ready') await whenReady(client, readyTimeoutMs);
          return call(command, ...args);
        }
      : call;
  return {
    send: ready((command, ...args) => client.call(command, ...args)),
    sendBuffer: callBuffer && ready((command, ...args) => callBuffer(command, ...args)),
  };
}

/**
 * Log `connection`'s errors at `debug` (an `error` event without a listener would crash the process),
 * with the URL's password (`secret()`, read at each error) masked.
 *
 * @example
 * watchErrors(client, 'main connection to redis://127.0.0.1:6379', () => password, logger)
 */
export function watchErrors(
  connection: RedisClient,
  what: string,
  secret: () => string | undefined,
  logger: Pick<Logger, 'debug'> | undefined,
): void {
  connection.on('error', (error: unknown) => {
    const raw = error instanceof Error ? error.message : String(error);
    const password = secret();
    const message = password ? raw.split(password).join('***') : raw;
    logger?.debug({ connection: what, error: message }, 'redis connection error');
  });
}
