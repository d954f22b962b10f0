import { type Clock, systemClock } from '../../clock.js';
import { StorageClosedError } from '../../errors/storage-closed-error.js';
import type { LeaseStore } from '../lease-store.js';
import type { PreviewEntry, RangePreviewOptions } from '../preview-entry.js';
import type {
  AddOptions,
  AutoClaimOptions,
  ClaimResult,
  ConsumerInfo,
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
import { assertTrimAcked, type TrimAckedOptions } from '../trim-acked.js';
import {
  assertCount,
  assertFields,
  assertIds,
  assertName,
  assertOptions,
  assertStartId,
} from '../validate.js';
import { ackAndAdd } from './memory-ack-and-add.js';
import { autoClaim, claim, touch } from './memory-claim-commands.js';
import { addEntry, deadLetter, deleteEntries, range, rangePreview } from './memory-entry-commands.js';
import { MemoryGroup } from './memory-group.js';
import { consumers, deleteConsumer, deleteIdleConsumers, groups, pending } from './memory-group-commands.js';
import { MemoryKeyspace, toStreamEntry } from './memory-keyspace.js';
import { MemoryLeases } from './memory-leases.js';
import { canonicalId, parseId, ZERO_ID } from './memory-stream-id.js';
import { REDIS_NODE_LIMITS } from './memory-stream-nodes.js';
import { trimAckedEntries } from './memory-trim.js';

/** Options of `new MemoryStreamStorage()`. */
export interface MemoryStreamStorageOptions {
  /**
   * Source of time for entry ids, idle times and `blockMs` timeouts. Pass XState's `SimulatedClock`
   * to move time by hand in tests.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Redis' `stream-node-max-entries`: entries per radix-tree node, which `maxLen` trims whole (like
   * `MAXLEN ~`). Set it to the value of the Redis the twin stands in for; 0: no limit.
   * @default 100
   */
  streamNodeMaxEntries?: number;
  /** Redis' `stream-node-max-bytes`: listpack bytes per node; 0: no limit. @default 4096 */
  streamNodeMaxBytes?: number;
}

/**
 * Redis Streams in process: the embedded default storage, and the engine of deterministic tests.
 * It has Redis 7.0's semantics for every `StreamStorage` method (ids, consumer groups, PEL,
 * blocking reads, XAUTOCLAIM cursors, XINFO counters); a differential test runs random operation
 * sequences against it and a real Redis side by side. `maxLen` trims like Redis' `MAXLEN ~`: whole
 * nodes of `streamNodeMaxEntries` entries (100) or `streamNodeMaxBytes` bytes (4096), so a short
 * stream is not trimmed at all. State lives as long as the instance; nothing is persisted.
 *
 * @example
 * import { SimulatedClock } from 'xstate'
 * const clock = new SimulatedClock(); clock.set(1_700_000_000_000)
 * const storage = new MemoryStreamStorage({ clock })
 * await storage.ensureGroup('events', 'bot', '$')
 * const read = storage.readGroup('events', 'bot', 'bot-1', { count: 10, blockMs: 5000 })
 * await storage.add('events', { type: 'user.joined' })   // wakes the blocked read at once
 * const [entry] = await read                              // { id: '1700000000000-0', fields, deliveries: 1 }
 */
export class MemoryStreamStorage implements StreamStorage {
  readonly kind = 'memory' as const;
  readonly #keys: MemoryKeyspace;
  #closing: Promise<void> | undefined;
  /** Partition leases and runtime membership (`assignment: 'leased'`) on this storage's clock. */
  readonly leases: LeaseStore;

  constructor(options: MemoryStreamStorageOptions = {}) {
    const maxEntries = options.streamNodeMaxEntries ?? REDIS_NODE_LIMITS.maxEntries;
    const maxBytes = options.streamNodeMaxBytes ?? REDIS_NODE_LIMITS.maxBytes;
    assertCount('streamNodeMaxEntries', maxEntries, 0);
    assertCount('streamNodeMaxBytes', maxBytes, 0);
    this.#keys = new MemoryKeyspace(options.clock ?? systemClock, { maxEntries, maxBytes });
    this.leases = new MemoryLeases(options.clock ?? systemClock, () => this.#closing !== undefined);
  }

  async ensureGroup(stream: string, group: string, startId = '$'): Promise<boolean> {
    this.#open('ensureGroup');
    assertName('stream', stream);
    assertName('group', group);
    assertStartId(startId);
    const lastId = startId === '$' ? undefined : startId === '0' ? ZERO_ID : parseId('XGROUP', startId);
    const target = this.#keys.streamOrCreate(stream);
    if (target.groups.has(group)) return false;
    target.groups.set(group, new MemoryGroup(group, lastId ?? target.lastId));
    return true;
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
    if (options.blockMs !== undefined) assertCount('blockMs', options.blockMs);
    const { target, found } = this.#keys.group(stream, group);
    const delivered = found.readNew(target, consumer, options.count, this.#keys.now());
    if (delivered.length > 0 || options.blockMs === undefined) return delivered.map(toStreamEntry);
    return this.#keys.block(stream, group, consumer, options.count, options.blockMs);
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.#open('ack');
    assertName('stream', stream);
    assertName('group', group);
    assertIds('ids', ids);
    if (ids.length === 0) return 0;
    return this.#keys.group(stream, group).found.ack(ids.map((id) => canonicalId('XACK', id)));
  }

  async autoClaim(
    stream: string,
    group: string,
    consumer: string,
    options: AutoClaimOptions,
  ): Promise<ClaimResult> {
    this.#open('autoClaim');
    return autoClaim(this.#keys, stream, group, consumer, options);
  }

  async claim(
    stream: string,
    group: string,
    consumer: string,
    ids: readonly string[],
    options: { minIdleMs: number },
  ): Promise<ClaimResult> {
    this.#open('claim');
    return claim(this.#keys, stream, group, consumer, ids, options);
  }

  async touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<string[]> {
    this.#open('touch');
    return touch(this.#keys, stream, group, consumer, ids);
  }

  async pending(stream: string, group: string, options: PendingOptions): Promise<PendingEntry[]> {
    this.#open('pending');
    return pending(this.#keys, stream, group, options);
  }

  async add(stream: string, fields: StreamFields, options: AddOptions = {}): Promise<string> {
    this.#open('add');
    assertName('stream', stream);
    assertFields(fields);
    assertOptions(options);
    return addEntry(this.#keys, stream, fields, options.maxLen);
  }

  async range(stream: string, options: RangeOptions = {}): Promise<RangeEntry[]> {
    this.#open('range');
    return range(this.#keys, stream, options);
  }

  async rangePreview(stream: string, options: RangePreviewOptions): Promise<PreviewEntry[]> {
    this.#open('rangePreview');
    return rangePreview(this.#keys, stream, options);
  }

  async delete(stream: string, ids: readonly string[]): Promise<number> {
    this.#open('delete');
    return deleteEntries(this.#keys, stream, ids);
  }

  async length(stream: string): Promise<number> {
    this.#open('length');
    assertName('stream', stream);
    return this.#keys.stream(stream)?.length ?? 0;
  }

  async groups(stream: string): Promise<GroupInfo[]> {
    this.#open('groups');
    return groups(this.#keys, stream);
  }

  async consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    this.#open('consumers');
    return consumers(this.#keys, stream, group);
  }

  async deleteConsumer(stream: string, group: string, consumer: string): Promise<number> {
    this.#open('deleteConsumer');
    return deleteConsumer(this.#keys, stream, group, consumer);
  }

  async deleteIdleConsumers(
    stream: string,
    group: string,
    options: DeleteIdleConsumersOptions,
  ): Promise<string[]> {
    this.#open('deleteIdleConsumers');
    return deleteIdleConsumers(this.#keys, stream, group, options);
  }

  async trimAcked(stream: string, options: TrimAckedOptions = {}): Promise<number> {
    this.#open('trimAcked');
    assertTrimAcked(stream, options);
    const keepBefore =
      options.keepMs === undefined ? undefined : (options.now ?? this.#keys.now()) - options.keepMs;
    return trimAckedEntries(this.#keys.stream(stream), keepBefore);
  }

  async destroyGroup(stream: string, group: string): Promise<boolean> {
    this.#open('destroyGroup');
    assertName('stream', stream);
    assertName('group', group);
    return this.#keys.destroyGroup(stream, group);
  }

  async deadLetter(letter: DeadLetterWrite): Promise<string> {
    this.#open('deadLetter');
    return deadLetter(this.#keys, letter);
  }

  async ackAndAdd(
    stream: string,
    group: string,
    id: string,
    entries: readonly EntryWrite[],
  ): Promise<boolean> {
    this.#open('ackAndAdd');
    return ackAndAdd(this.#keys, stream, group, id, entries);
  }

  /**
   * Delete a stream key with its groups, like Redis' `DEL` (not part of `StreamStorage`): readers
   * blocked on it get `NoGroupError`. Tests use it to act out "the key was deleted" or, on every
   * stream, "Redis restarted empty". Resolves whether the stream existed.
   *
   * @example
   * await storage.deleteStream('orders')   // the consumer's next read raises NoGroupError
   */
  async deleteStream(stream: string): Promise<boolean> {
    this.#open('deleteStream');
    assertName('stream', stream);
    return this.#keys.deleteStream(stream);
  }

  /** Reject blocked reads with `StorageClosedError`, cancel their timers and drop every stream. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = Promise.resolve();
      this.#keys.clear(() => new StorageClosedError('readGroup'));
    }
    return this.#closing;
  }

  #open(method: string): void {
    if (this.#closing !== undefined) throw new StorageClosedError(method);
  }
}
