import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { ConnectionError } from '../errors/connection-error.js';
import { NoGroupError } from '../errors/no-group-error.js';
import { StorageClosedError } from '../errors/storage-closed-error.js';
import { BlockingReads, type RedisClient } from './redis-blocking-reads.js';
import {
  closeConnection,
  connectFromUrl,
  duplicateForReads,
  ownConnectionOptions,
  protocolOf,
} from './redis-connections.js';
import { isMissingKeyReply, isNoGroupReply, isReplyError, toStorageError } from './redis-errors.js';
import {
  parseClaimScript,
  parseConsumers,
  parseGroups,
  parseIds,
  parsePending,
  parseRangeEntries,
  parseReadGroup,
} from './redis-replies.js';
import { autoClaimScript, claimScript } from './redis-scripts.js';
import { parseRedisUrl, redactUrl } from './redis-url.js';
import type {
  AddOptions,
  AutoClaimOptions,
  ClaimResult,
  ConsumerInfo,
  DeadLetterWrite,
  GroupInfo,
  PendingEntry,
  PendingOptions,
  RangeEntry,
  RangeOptions,
  ReadGroupOptions,
  StreamEntry,
  StreamFields,
  StreamStorage,
} from './stream-storage.js';
import {
  assertCount,
  assertFields,
  assertId,
  assertIds,
  assertName,
  assertRangeBound,
  assertStartId,
} from './validate.js';

/** Options of `new RedisStreamStorage(client, options)`. */
export interface RedisStreamStorageOptions {
  /**
   * How long past its `blockMs` a blocking read may take before its connection is dropped and the read
   * rejects with `ConnectionError` code `READ_TIMEOUT` (ms, ≥ 1).
   * @default 1000
   */
  watchdogMarginMs?: number;
  /** Where connection trouble is logged (`warn`/`debug`). Passwords never appear in it. @default none */
  logger?: Pick<Logger, 'warn' | 'debug'>;
}

/** Options of `RedisStreamStorage.fromUrl(url, options)`. */
export interface RedisStreamStorageUrlOptions extends RedisStreamStorageOptions {
  /** Timeout of each non-blocking command on the storage's own connection (ms, ≥ 1). @default 5000 */
  commandTimeoutMs?: number;
  /** Extra ioredis options (e.g. `tls`, `connectionName`) for every connection created. `protocol` is always 2. */
  redis?: RedisOptions;
}

// Lua's unpack() and the argument stack have limits; larger id lists go in several script calls.
const CLAIM_CHUNK = 1000;
const QUIT_TIMEOUT_MS = 500;

/**
 * `StreamStorage` on Redis 7+ through ioredis, a single server (`Redis`) or a `Cluster`.
 *
 * Connections: non-blocking commands share the main connection; each consumer name gets its own
 * dedicated connection for blocking reads (a `duplicate()`, opened on its first blocking read), guarded
 * by a watchdog. A client you pass in is yours: `close()` leaves it open but closes every duplicate.
 * `fromUrl` creates and owns every connection, with bounded retries so commands fail with
 * `ConnectionError` within about two seconds while Redis is down. Clients you pass in must be created
 * with `protocol: 2` (ioredis 6 speaks RESP3 by default); for the same bounded failures give them
 * `maxRetriesPerRequest: 1` and a `commandTimeout`.
 *
 * @example
 * const storage = RedisStreamStorage.fromUrl('redis://:secret@127.0.0.1:6379/0')
 * await storage.ensureGroup('events', 'bot', '$')
 * const entries = await storage.readGroup('events', 'bot', 'bot-1', { count: 10, blockMs: 5000 })
 * await storage.close()
 *
 * // or with a client you own:
 * const storage2 = new RedisStreamStorage(new Redis({ protocol: 2, maxRetriesPerRequest: 1 }))
 */
export class RedisStreamStorage implements StreamStorage {
  readonly kind = 'redis' as const;
  readonly #client: RedisClient;
  readonly #reads: BlockingReads;
  readonly #logger: Pick<Logger, 'warn' | 'debug'> | undefined;
  #ownsClient = false;
  #secret: string | undefined;
  #closing: Promise<void> | null = null;

  /**
   * Wrap an ioredis client created with `protocol: 2`. The client is not closed by `close()`.
   * @throws TypeError when the client would speak RESP3 or an option is invalid.
   */
  constructor(client: RedisClient, options: RedisStreamStorageOptions = {}) {
    if (typeof client !== 'object' || client === null || typeof client.call !== 'function') {
      throw new TypeError('Expected `client` to be an ioredis Redis or Cluster instance');
    }
    if (protocolOf(client) !== 2) {
      throw new TypeError(
        'Expected `client` to be created with `protocol: 2` (ioredis 6 speaks RESP3 by default, which RedisStreamStorage does not parse): new Redis({ protocol: 2 }) or new Cluster(nodes, { redisOptions: { protocol: 2 } })',
      );
    }
    const margin = options.watchdogMarginMs ?? 1000;
    assertCount('watchdogMarginMs', margin);
    this.#client = client;
    this.#logger = options.logger;
    this.#reads = new BlockingReads((consumer) => this.#openReader(consumer), margin);
  }

  /**
   * Connect to `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS) or
   * `redis+cluster://[user:password@]host1:port1,host2:port2` (an ioredis `Cluster`). The storage owns
   * every connection it creates and closes them in `close()`.
   * @throws TypeError when the URL is not one of those forms (the message never shows the password).
   */
  static fromUrl(url: string, options: RedisStreamStorageUrlOptions = {}): RedisStreamStorage {
    const parsed = parseRedisUrl(url);
    const commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    assertCount('commandTimeoutMs', commandTimeoutMs);
    const client = connectFromUrl(parsed, ownConnectionOptions(commandTimeoutMs), options.redis ?? {});
    const storageOptions: RedisStreamStorageOptions = {};
    if (options.watchdogMarginMs !== undefined) storageOptions.watchdogMarginMs = options.watchdogMarginMs;
    if (options.logger !== undefined) storageOptions.logger = options.logger;
    let storage: RedisStreamStorage;
    try {
      storage = new RedisStreamStorage(client, storageOptions);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    storage.#ownsClient = true;
    storage.#secret = parsed.password;
    storage.#watchErrors(client, `main connection to ${redactUrl(url)}`);
    return storage;
  }

  async ensureGroup(stream: string, group: string, startId = '$'): Promise<boolean> {
    this.#open('ensureGroup');
    assertName('stream', stream);
    assertName('group', group);
    assertStartId(startId);
    try {
      await this.#client.call('XGROUP', 'CREATE', stream, group, startId, 'MKSTREAM');
      return true;
    } catch (error) {
      if (isReplyError(error) && error.message.startsWith('BUSYGROUP')) return false;
      throw this.#error(error, 'XGROUP CREATE', stream, group);
    }
  }

  async readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]> {
    this.#open('readGroup');
    assertName('stream', stream);
    assertName('group', group);
    assertName('consumer', consumer);
    assertOptions(options);
    assertCount('count', options.count);
    const blockMs = options.blockMs;
    if (blockMs !== undefined) assertCount('blockMs', blockMs);
    try {
      if (blockMs === undefined) {
        const reply = await this.#client.call(
          'XREADGROUP',
          'GROUP',
          group,
          consumer,
          'COUNT',
          options.count,
          'STREAMS',
          stream,
          '>',
        );
        return parseReadGroup(reply);
      }
      const args = [
        'GROUP',
        group,
        consumer,
        'COUNT',
        options.count,
        'BLOCK',
        blockMs,
        'STREAMS',
        stream,
        '>',
      ];
      return parseReadGroup(await this.#reads.read(consumer, blockMs, args));
    } catch (error) {
      const mapped = this.#error(error, 'XREADGROUP', stream, group);
      if (mapped instanceof ConnectionError) {
        this.#logger?.warn(
          { stream, group, consumer, code: mapped.code, error: mapped.message },
          'read failed',
        );
      }
      throw mapped;
    }
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.#open('ack');
    assertName('stream', stream);
    assertName('group', group);
    assertIds('ids', ids);
    if (ids.length === 0) return 0;
    let acked: number;
    try {
      acked = (await this.#client.call('XACK', stream, group, ...ids)) as number;
    } catch (error) {
      throw this.#error(error, 'XACK', stream, group);
    }
    // XACK answers 0 for a missing group instead of NOGROUP; only then is the extra check worth it.
    if (acked < ids.length) await this.#assertGroup(stream, group);
    return acked;
  }

  async autoClaim(
    stream: string,
    group: string,
    consumer: string,
    options: AutoClaimOptions,
  ): Promise<ClaimResult> {
    this.#open('autoClaim');
    assertName('stream', stream);
    assertName('group', group);
    assertName('consumer', consumer);
    assertOptions(options);
    assertCount('minIdleMs', options.minIdleMs, 0);
    assertCount('count', options.count);
    const cursor = options.cursor ?? '0-0';
    assertId('cursor', cursor);
    try {
      const args = [group, consumer, options.minIdleMs, cursor, options.count];
      return parseClaimScript(await autoClaimScript.run(this.#client, stream, args));
    } catch (error) {
      throw this.#error(error, 'XAUTOCLAIM', stream, group);
    }
  }

  async claim(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
    options: { minIdleMs: number },
  ): Promise<ClaimResult> {
    this.#open('claim');
    assertName('stream', stream);
    assertName('group', group);
    assertName('consumer', consumer);
    assertIds('ids', ids);
    assertOptions(options);
    assertCount('minIdleMs', options.minIdleMs, 0);
    if (ids.length === 0) return { cursor: '0-0', entries: [], deletedIds: [] };
    try {
      if (ids.length <= CLAIM_CHUNK) {
        return parseClaimScript(
          await claimScript.run(this.#client, stream, [group, consumer, options.minIdleMs, ...ids]),
        );
      }
      const entries: StreamEntry[] = [];
      const deletedIds: string[] = [];
      for (let start = 0; start < ids.length; start += CLAIM_CHUNK) {
        const args = [group, consumer, options.minIdleMs, ...ids.slice(start, start + CLAIM_CHUNK)];
        const part = parseClaimScript(await claimScript.run(this.#client, stream, args));
        entries.push(...part.entries);
        deletedIds.push(...part.deletedIds);
      }
      return { cursor: '0-0', entries, deletedIds };
    } catch (error) {
      throw this.#error(error, 'XCLAIM', stream, group);
    }
  }

  async touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<string[]> {
    this.#open('touch');
    assertName('stream', stream);
    assertName('group', group);
    assertName('consumer', consumer);
    assertIds('ids', ids);
    if (ids.length === 0) return [];
    try {
      return parseIds(await this.#client.call('XCLAIM', stream, group, consumer, 0, ...ids, 'JUSTID'));
    } catch (error) {
      throw this.#error(error, 'XCLAIM JUSTID', stream, group);
    }
  }

  async pending(stream: string, group: string, options: PendingOptions): Promise<PendingEntry[]> {
    this.#open('pending');
    assertName('stream', stream);
    assertName('group', group);
    assertOptions(options);
    assertCount('count', options.count);
    const start = options.start ?? '-';
    const end = options.end ?? '+';
    assertRangeBound('start', start);
    assertRangeBound('end', end);
    if (options.consumer !== undefined) assertName('consumer', options.consumer);
    if (options.minIdleMs !== undefined) assertCount('minIdleMs', options.minIdleMs, 0);
    const args: (string | number)[] = [stream, group];
    if (options.minIdleMs !== undefined && options.minIdleMs > 0) args.push('IDLE', options.minIdleMs);
    args.push(start, end, options.count);
    if (options.consumer !== undefined) args.push(options.consumer);
    try {
      return parsePending(await this.#client.call('XPENDING', ...args));
    } catch (error) {
      throw this.#error(error, 'XPENDING', stream, group);
    }
  }

  async add(stream: string, fields: StreamFields, options: AddOptions = {}): Promise<string> {
    this.#open('add');
    assertName('stream', stream);
    assertFields(fields);
    assertOptions(options);
    if (options.maxLen !== undefined) assertCount('maxLen', options.maxLen);
    try {
      return (await this.#client.call('XADD', xaddArgs(stream, fields, options.maxLen))) as string;
    } catch (error) {
      throw this.#error(error, 'XADD', stream, undefined);
    }
  }

  async range(stream: string, options: RangeOptions = {}): Promise<RangeEntry[]> {
    this.#open('range');
    assertName('stream', stream);
    assertOptions(options);
    const start = options.start ?? '-';
    const end = options.end ?? '+';
    assertRangeBound('start', start);
    assertRangeBound('end', end);
    if (options.count !== undefined) assertCount('count', options.count);
    try {
      const reply =
        options.count === undefined
          ? await this.#client.call('XRANGE', stream, start, end)
          : await this.#client.call('XRANGE', stream, start, end, 'COUNT', options.count);
      return parseRangeEntries(reply);
    } catch (error) {
      throw this.#error(error, 'XRANGE', stream, undefined);
    }
  }

  async delete(stream: string, ids: readonly string[]): Promise<number> {
    this.#open('delete');
    assertName('stream', stream);
    assertIds('ids', ids);
    if (ids.length === 0) return 0;
    try {
      return (await this.#client.call('XDEL', stream, ...ids)) as number;
    } catch (error) {
      throw this.#error(error, 'XDEL', stream, undefined);
    }
  }

  async length(stream: string): Promise<number> {
    this.#open('length');
    assertName('stream', stream);
    try {
      return (await this.#client.call('XLEN', stream)) as number;
    } catch (error) {
      throw this.#error(error, 'XLEN', stream, undefined);
    }
  }

  async groups(stream: string): Promise<GroupInfo[]> {
    this.#open('groups');
    assertName('stream', stream);
    try {
      return parseGroups(await this.#client.call('XINFO', 'GROUPS', stream));
    } catch (error) {
      if (isReplyError(error) && isMissingKeyReply(error.message)) return [];
      throw this.#error(error, 'XINFO GROUPS', stream, undefined);
    }
  }

  async consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    this.#open('consumers');
    assertName('stream', stream);
    assertName('group', group);
    try {
      return parseConsumers(await this.#client.call('XINFO', 'CONSUMERS', stream, group));
    } catch (error) {
      if (isReplyError(error) && isMissingKeyReply(error.message))
        throw new NoGroupError(stream, group, { cause: error });
      throw this.#error(error, 'XINFO CONSUMERS', stream, group);
    }
  }

  async deleteConsumer(stream: string, group: string, consumer: string): Promise<number> {
    this.#open('deleteConsumer');
    assertName('stream', stream);
    assertName('group', group);
    assertName('consumer', consumer);
    try {
      return (await this.#client.call('XGROUP', 'DELCONSUMER', stream, group, consumer)) as number;
    } catch (error) {
      if (isReplyError(error) && isMissingKeyReply(error.message))
        throw new NoGroupError(stream, group, { cause: error });
      throw this.#error(error, 'XGROUP DELCONSUMER', stream, group);
    }
  }

  async destroyGroup(stream: string, group: string): Promise<boolean> {
    this.#open('destroyGroup');
    assertName('stream', stream);
    assertName('group', group);
    try {
      return (await this.#client.call('XGROUP', 'DESTROY', stream, group)) === 1;
    } catch (error) {
      if (isReplyError(error) && isMissingKeyReply(error.message)) return false;
      throw this.#error(error, 'XGROUP DESTROY', stream, group);
    }
  }

  async deadLetter(letter: DeadLetterWrite): Promise<string> {
    this.#open('deadLetter');
    assertOptions(letter, 'letter');
    assertName('deadStream', letter.deadStream);
    assertName('sourceStream', letter.sourceStream);
    assertName('group', letter.group);
    assertId('id', letter.id);
    assertFields(letter.fields);
    if (letter.maxLen !== undefined) assertCount('maxLen', letter.maxLen);
    // Two awaits, not a pipeline: the dead letter must exist before the source is acked, a failed XADD
    // must not be followed by the XACK, and in a Cluster the two keys may live on different nodes.
    let id: string;
    try {
      id = (await this.#client.call(
        'XADD',
        xaddArgs(letter.deadStream, letter.fields, letter.maxLen),
      )) as string;
    } catch (error) {
      throw this.#error(error, 'XADD', letter.deadStream, undefined);
    }
    let acked: number;
    try {
      acked = (await this.#client.call('XACK', letter.sourceStream, letter.group, letter.id)) as number;
    } catch (error) {
      throw this.#error(error, 'XACK', letter.sourceStream, letter.group);
    }
    if (acked === 0) await this.#assertGroup(letter.sourceStream, letter.group);
    return id;
  }

  /**
   * Close the connections this storage created (the main one when made by `fromUrl`, and every
   * blocking-read connection); a client passed to the constructor stays open. Idempotent, and
   * resolves within about a second even when Redis is unreachable.
   */
  close(): Promise<void> {
    if (this.#closing === null) this.#closing = this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#reads.close();
    if (this.#ownsClient) await closeConnection(this.#client, QUIT_TIMEOUT_MS);
  }

  #open(method: string): void {
    if (this.#closing !== null) throw new StorageClosedError(method);
  }

  #openReader(consumer: string): RedisClient {
    const connection = duplicateForReads(this.#client);
    this.#watchErrors(connection, `blocking-read connection of consumer "${consumer}"`);
    return connection;
  }

  #watchErrors(connection: RedisClient, what: string): void {
    connection.on('error', (error: unknown) => {
      const raw = error instanceof Error ? error.message : String(error);
      const message = this.#secret ? raw.split(this.#secret).join('***') : raw;
      this.#logger?.debug({ connection: what, error: message }, 'redis connection error');
    });
  }

  async #assertGroup(stream: string, group: string): Promise<void> {
    try {
      await this.#client.call('XPENDING', stream, group);
    } catch (error) {
      if (isReplyError(error) && isNoGroupReply(error.message))
        throw new NoGroupError(stream, group, { cause: error });
      throw this.#error(error, 'XPENDING', stream, group);
    }
  }

  #error(error: unknown, command: string, stream: string, group: string | undefined): Error {
    return toStorageError(error, command, stream, group, this.#secret);
  }
}

function xaddArgs(stream: string, fields: StreamFields, maxLen: number | undefined): (string | number)[] {
  const args: (string | number)[] =
    maxLen === undefined ? [stream, '*'] : [stream, 'MAXLEN', '~', maxLen, '*'];
  for (const key in fields) {
    if (Object.hasOwn(fields, key)) args.push(key, fields[key] as string);
  }
  return args;
}

function assertOptions(value: unknown, what = 'options'): void {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `Expected \`${what}\` to be an object, got ${value === null ? 'null' : typeof value}`,
    );
  }
}
