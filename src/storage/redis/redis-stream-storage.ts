import type { Logger } from 'pino';
import { StorageClosedError } from '../../errors/storage-closed-error.js';
import type { LeaseStore } from '../lease-store.js';
import type { PreviewEntry, RangePreviewOptions } from '../preview-entry.js';
import type {
  AddOptions,
  AutoClaimOptions,
  ClaimResult,
  ConsumerInfo,
  CopyEntryOptions,
  DeadLetterWrite,
  DeleteIdleConsumersOptions,
  EntryWrite,
  GroupInfo,
  PendingEntry,
  PendingOptions,
  RangeEntry,
  RangeOptions,
  ReadGroupOptions,
  StreamEntry,
  StreamFields,
  StreamStorage,
} from '../stream-storage.js';
import type { TrimAckedOptions } from '../trim-acked.js';
import { assertCount } from '../validate.js';
import { keySlot } from './key-slot.js';
import { ackAndAdd } from './redis-ack-and-add.js';
import { BlockingReads, type RedisClient } from './redis-blocking-reads.js';
import { autoClaim, claim, touch } from './redis-claim-commands.js';
import type { CommandContext } from './redis-commands.js';
import {
  clientSends,
  closeConnection,
  connectFromUrl,
  duplicateForReads,
  guardDatabase,
  isCluster,
  ownConnectionOptions,
  watchErrors,
} from './redis-connections.js';
import { add, copyEntry, deadLetter, deleteEntries, length, range } from './redis-entry-commands.js';
import {
  ack,
  consumers,
  deleteConsumer,
  deleteIdleConsumers,
  destroyGroup,
  ensureGroup,
  groups,
  pending,
} from './redis-group-commands.js';
import { RedisLeases } from './redis-leases.js';
import { rangePreview } from './redis-range-preview.js';
import { readGroup } from './redis-read-group.js';
import type { RedisStreamStorageOptions, RedisStreamStorageUrlOptions } from './redis-storage-options.js';
import { trimAcked } from './redis-trim-commands.js';
import { parseRedisUrl, redactUrl } from './redis-url.js';

const QUIT_TIMEOUT_MS = 500;
const READY_TIMEOUT_MS = 2000;

/**
 * `StreamStorage` on Redis 7+ through ioredis, a single server (`Redis`) or a `Cluster`.
 *
 * Connections: non-blocking commands share the main connection; each stream and consumer name gets its
 * own dedicated connection for blocking reads (a `duplicate()`, opened on its first blocking read), guarded
 * by a watchdog. A client you pass in is yours: `close()` leaves it open but closes every duplicate.
 * `fromUrl` creates and owns every connection, with bounded retries so commands fail with
 * `ConnectionError` within about two seconds while Redis is down. With a `Cluster`, a command waits at
 * most two seconds for the cluster to become ready (ioredis would queue it forever). Any ioredis client
 * is accepted as it is: ioredis 5 or 6, RESP2 or RESP3 (ioredis 6's default), `Redis` or `Cluster`
 * (see `RedisClient`); for the same bounded failures give it `maxRetriesPerRequest: 1` and a
 * `commandTimeout`.
 *
 * @example
 * const storage = RedisStreamStorage.fromUrl('redis://:secret@127.0.0.1:6379/0')
 * await storage.ensureGroup('events', 'bot', '$')
 * const entries = await storage.readGroup('events', 'bot', 'bot-1', { count: 10, blockMs: 5000 })
 * await storage.close()
 *
 * // or with a client you own:
 * const storage2 = new RedisStreamStorage(new Redis({ maxRetriesPerRequest: 1 }))
 */
export class RedisStreamStorage implements StreamStorage {
  readonly kind = 'redis' as const;
  readonly #client: RedisClient;
  readonly #reads: BlockingReads;
  readonly #logger: Pick<Logger, 'warn' | 'debug'> | undefined;
  #ctx: CommandContext;
  #ownsClient = false;
  #closing: Promise<void> | null = null;
  /** Partition leases and runtime membership (`assignment: 'leased'`), see lease-store.ts. */
  readonly leases: LeaseStore = new RedisLeases(() => {
    if (this.#closing) throw new StorageClosedError('leases');
    return this.#ctx;
  });

  /**
   * Wrap an ioredis client, as the application created it. The client is not closed by `close()`.
   * @throws TypeError when `client` is not an ioredis client or an option is invalid.
   */
  constructor(client: RedisClient, options: RedisStreamStorageOptions = {}) {
    if (typeof client !== 'object' || client === null || typeof client.call !== 'function') {
      throw new TypeError('Expected `client` to be an ioredis Redis or Cluster instance');
    }
    const margin = options.watchdogMarginMs ?? 1000;
    assertCount('watchdogMarginMs', margin);
    this.#client = client;
    this.#ctx = { ...clientSends(client, READY_TIMEOUT_MS), secret: undefined, logger: options.logger };
    this.#logger = options.logger;
    this.#reads = new BlockingReads((reader) => this.#openReader(reader), margin);
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
    const guard = guardDatabase(client, parsed.db, redactUrl(url));
    const { send, sendBuffer } = storage.#ctx;
    storage.#ctx = {
      ...storage.#ctx,
      send: guard(send),
      sendBuffer: sendBuffer && guard(sendBuffer),
      secret: parsed.password,
    };
    storage.#watchErrors(client, `main connection to ${redactUrl(url)}`);
    return storage;
  }

  ensureGroup(stream: string, group: string, startId = '$'): Promise<boolean> {
    return this.#closing ? closed('ensureGroup') : ensureGroup(this.#ctx, stream, group, startId);
  }

  readGroup(
    stream: string,
    group: string,
    consumer: string,
    options: ReadGroupOptions,
  ): Promise<StreamEntry[]> {
    return this.#closing
      ? closed('readGroup')
      : readGroup(this.#ctx, this.#reads, this.#logger, stream, group, consumer, options);
  }

  ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    return this.#closing ? closed('ack') : ack(this.#ctx, stream, group, ids);
  }

  autoClaim(
    stream: string,
    group: string,
    consumer: string,
    options: AutoClaimOptions,
  ): Promise<ClaimResult> {
    return this.#closing ? closed('autoClaim') : autoClaim(this.#ctx, stream, group, consumer, options);
  }

  claim(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
    options: { minIdleMs: number },
  ): Promise<ClaimResult> {
    return this.#closing ? closed('claim') : claim(this.#ctx, stream, group, consumer, ids, options);
  }

  touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<string[]> {
    return this.#closing ? closed('touch') : touch(this.#ctx, stream, group, consumer, ids);
  }

  pending(stream: string, group: string, options: PendingOptions): Promise<PendingEntry[]> {
    return this.#closing ? closed('pending') : pending(this.#ctx, stream, group, options);
  }

  add(stream: string, fields: StreamFields, options: AddOptions = {}): Promise<string> {
    return this.#closing ? closed('add') : add(this.#ctx, stream, fields, options);
  }

  range(stream: string, options: RangeOptions = {}): Promise<RangeEntry[]> {
    return this.#closing ? closed('range') : range(this.#ctx, stream, options);
  }

  rangePreview(stream: string, options: RangePreviewOptions): Promise<PreviewEntry[]> {
    return this.#closing ? closed('rangePreview') : rangePreview(this.#ctx, stream, options);
  }

  delete(stream: string, ids: readonly string[]): Promise<number> {
    return this.#closing ? closed('delete') : deleteEntries(this.#ctx, stream, ids);
  }

  length(stream: string): Promise<number> {
    return this.#closing ? closed('length') : length(this.#ctx, stream);
  }

  groups(stream: string): Promise<GroupInfo[]> {
    return this.#closing ? closed('groups') : groups(this.#ctx, stream);
  }

  consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    return this.#closing ? closed('consumers') : consumers(this.#ctx, stream, group);
  }

  deleteConsumer(stream: string, group: string, consumer: string): Promise<number> {
    return this.#closing ? closed('deleteConsumer') : deleteConsumer(this.#ctx, stream, group, consumer);
  }

  deleteIdleConsumers(stream: string, group: string, options: DeleteIdleConsumersOptions): Promise<string[]> {
    return this.#closing
      ? closed('deleteIdleConsumers')
      : deleteIdleConsumers(this.#ctx, stream, group, options);
  }

  trimAcked(stream: string, options: TrimAckedOptions = {}): Promise<number> {
    return this.#closing ? closed('trimAcked') : trimAcked(this.#ctx, stream, options);
  }

  destroyGroup(stream: string, group: string): Promise<boolean> {
    return this.#closing ? closed('destroyGroup') : destroyGroup(this.#ctx, stream, group);
  }

  deadLetter(letter: DeadLetterWrite): Promise<string> {
    return this.#closing ? closed('deadLetter') : deadLetter(this.#ctx, letter);
  }

  /** `XRANGE source id id` read as bytes, then `XADD stream * …` of those bytes (see `StreamStorage.copyEntry`). */
  copyEntry(
    source: string,
    id: string,
    stream: string,
    options: CopyEntryOptions = {},
  ): Promise<string | null> {
    return this.#closing ? closed('copyEntry') : copyEntry(this.#ctx, source, id, stream, options);
  }

  ackAndAdd(stream: string, group: string, id: string, entries: readonly EntryWrite[]): Promise<boolean> {
    return this.#closing ? closed('ackAndAdd') : ackAndAdd(this.#ctx, stream, group, id, entries);
  }

  /** On a Cluster, whether `a` and `b` hash to one slot (`CLUSTER KEYSLOT`); on one server, always. */
  sameSlot(a: string, b: string): boolean {
    return !isCluster(this.#client) || keySlot(a) === keySlot(b);
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

  #openReader(reader: string): RedisClient {
    const connection = duplicateForReads(this.#client);
    this.#watchErrors(connection, `blocking-read connection of "${reader}" (stream/consumer)`);
    return connection;
  }

  #watchErrors(connection: RedisClient, what: string): void {
    watchErrors(connection, what, () => this.#ctx.secret, this.#logger);
  }
}

function closed(method: string): Promise<never> {
  return Promise.reject(new StorageClosedError(method));
}
