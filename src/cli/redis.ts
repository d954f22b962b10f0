import { Option } from 'commander';
import type { Redis } from 'ioredis';
import type { RedisStreamStorage } from '../index.js';
import { UsageError } from './usage-error.js';

// The library and ioredis are loaded on first use, so `--help` and bad arguments answer at once.
let libraryLoad: Promise<typeof import('../index.js')> | null = null;

/**
 * The streamvisor public API, imported on first call (cached).
 *
 * @example
 * const { redactUrl } = await library()
 */
export function library(): Promise<typeof import('../index.js')> {
  libraryLoad ??= import('../index.js');
  return libraryLoad;
}

/** An open connection of one CLI command: the raw client (SCAN, XREAD) and the storage on top of it. */
export interface RedisSession {
  readonly client: Redis;
  readonly storage: RedisStreamStorage;
  /** The URL with its password redacted, for messages. */
  readonly where: string;
  /** Close the storage and the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * The `--redis <url>` option, defaulting to `REDIS_URL` from the environment.
 *
 * @example
 * command.addOption(redisOption())
 */
export function redisOption(): Option {
  return new Option('--redis <url>', 'Redis URL, redis://[user:password@]host:port[/db] or rediss://…').env(
    'REDIS_URL',
  );
}

/**
 * The Redis URL a command should use, or a `UsageError` that says how to give one.
 *
 * @example
 * const url = await requireRedisUrl(options.redis)
 */
export async function requireRedisUrl(url: string | undefined): Promise<string> {
  if (url === undefined || url === '')
    throw new UsageError('no Redis URL: pass --redis URL or set REDIS_URL');
  const { redactUrl } = await library();
  if (/^rediss?\+cluster:\/\//i.test(url)) {
    throw new UsageError(
      `the CLI talks to one Redis server: pass the redis:// URL of the node that holds the stream, got "${redactUrl(url)}"`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--redis must be a URL like redis://127.0.0.1:6379, got "${redactUrl(url)}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`--redis must start with redis:// or rediss://, got "${redactUrl(url)}"`);
  }
  return url;
}

/**
 * Connect to Redis once, failing fast (no reconnect loop): a CLI command should report an unreachable
 * server at once, with exit code 1. `commandTimeoutMs: null` leaves commands without a timeout (for
 * blocking reads).
 *
 * @example
 * const session = await openRedis('redis://127.0.0.1:6379')
 * try { await session.storage.length('orders') } finally { await session.close() }
 */
export async function openRedis(
  url: string,
  options: { commandTimeoutMs?: number | null } = {},
): Promise<RedisSession> {
  const [{ RedisStreamStorage, redactUrl }, { Redis }] = await Promise.all([library(), import('ioredis')]);
  const where = redactUrl(url);
  const commandTimeoutMs = options.commandTimeoutMs === undefined ? 10_000 : options.commandTimeoutMs;
  const client = new Redis(url, {
    protocol: 2,
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    ...(commandTimeoutMs === null ? {} : { commandTimeout: commandTimeoutMs }),
  });
  // Errors surface through the commands that fail; without a listener ioredis prints them itself.
  // The first one says why a connection failed (ECONNREFUSED…); connect() only says "Connection is closed".
  let socketError: unknown = null;
  client.on('error', (error: unknown) => {
    socketError ??= error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(
      `cannot connect to ${where}: ${describeError(socketError ?? error, redactUrl)} (is Redis running? check --redis or REDIS_URL)`,
    );
  }
  await refuseMissingDatabase(client, url, where, () => socketError);
  const storage = new RedisStreamStorage(client);
  let closing: Promise<void> | null = null;
  return {
    client,
    storage,
    where,
    close() {
      closing ??= storage
        .close()
        .catch(() => {})
        .then(() => client.quit())
        .then(
          () => undefined,
          () => client.disconnect(),
        );
      return closing;
    },
  };
}

/**
 * ioredis answers a SELECT error (a database the server does not have) with an `error` event only,
 * and goes on in db 0: after one PING (answered after SELECT), fail with the URL named instead.
 */
async function refuseMissingDatabase(
  client: Redis,
  url: string,
  where: string,
  seen: () => unknown,
): Promise<void> {
  const db = Number(new URL(url).pathname.slice(1) || '0');
  if (db === 0) return;
  await client.call('PING').catch(() => undefined);
  const error = seen();
  const { MISSING_DB, missingDatabase } = await import('../storage/redis/redis-connections.js');
  if (error instanceof Error && MISSING_DB.test(error.message)) {
    client.disconnect();
    throw missingDatabase(where, db, error.message);
  }
}

/**
 * The message of an error, with any Redis URL password redacted.
 *
 * @example
 * describeError(new Error('redis://u:pw@h failed'), redactUrl) // 'redis://u:***@h failed'
 */
export function describeError(error: unknown, redactUrl: (url: string) => string): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi, (url) => redactUrl(url));
}

/**
 * Run `work` with an open Redis session and close it afterwards, whatever happens.
 *
 * @example
 * await withRedis(url, (session) => session.storage.add('orders', { type: 'order.paid' }))
 */
export async function withRedis<T>(url: string, work: (session: RedisSession) => Promise<T>): Promise<T> {
  const session = await openRedis(url);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}
