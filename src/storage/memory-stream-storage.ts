import { type Clock, systemClock } from '../clock.js';
import { NoGroupError } from '../errors/no-group-error.js';
import { StorageClosedError } from '../errors/storage-closed-error.js';
import { BlockedReads } from './memory-blocked-reads.js';
import { byteOrder, type ClaimOutcome, type Delivery, MemoryGroup } from './memory-group.js';
import { MemoryStream } from './memory-stream.js';
import { canonicalId, compareStreamIds, parseBound, parseId, ZERO_ID } from './memory-stream-id.js';
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

/** Options of `new MemoryStreamStorage()`. */
export interface MemoryStreamStorageOptions {
  /**
   * Source of time for entry ids, idle times and `blockMs` timeouts. Pass XState's `SimulatedClock`
   * to move time by hand in tests.
   * @default systemClock
   */
  clock?: Clock;
}

/**
 * Redis Streams in process: the embedded default storage, and the engine of deterministic tests.
 * It has Redis 7.0's semantics for every `StreamStorage` method (ids, consumer groups, PEL,
 * blocking reads, XAUTOCLAIM cursors, XINFO counters); a differential test runs random operation
 * sequences against it and a real Redis side by side. `maxLen` trims exactly. State lives as long
 * as the instance; nothing is persisted.
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
  readonly #clock: Clock;
  readonly #streams = new Map<string, MemoryStream>();
  readonly #blocked: BlockedReads;
  #closing: Promise<void> | undefined;

  constructor(options: MemoryStreamStorageOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#blocked = new BlockedReads(this.#clock);
  }

  async ensureGroup(stream: string, group: string, startId = '$'): Promise<boolean> {
    this.#open('ensureGroup');
    assertName('stream', stream);
    assertName('group', group);
    assertStartId(startId);
    const lastId = startId === '$' ? undefined : startId === '0' ? ZERO_ID : parseId('XGROUP', startId);
    const target = this.#streamOrCreate(stream);
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
    const { target, found } = this.#group(stream, group);
    const delivered = found.readNew(target, consumer, options.count, this.#now());
    if (delivered.length > 0 || options.blockMs === undefined) return delivered.map(toStreamEntry);
    return this.#blocked.wait({ stream, group, consumer, count: options.count }, options.blockMs);
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.#open('ack');
    assertName('stream', stream);
    assertName('group', group);
    assertIds('ids', ids);
    if (ids.length === 0) return 0;
    return this.#group(stream, group).found.ack(ids.map((id) => canonicalId('XACK', id)));
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
    const cursorText = options.cursor ?? '0-0';
    assertId('cursor', cursorText);
    const cursor = parseId('XAUTOCLAIM', cursorText);
    const { target, found } = this.#group(stream, group);
    return toClaimResult(
      found.autoClaim(target, consumer, options.minIdleMs, cursor, options.count, this.#now()),
    );
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
    const parsed = ids.map((id) => parseId('XCLAIM', id));
    const { target, found } = this.#group(stream, group);
    return toClaimResult(found.claim(target, consumer, parsed, options.minIdleMs, false, this.#now()));
  }

  async touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<string[]> {
    this.#open('touch');
    assertName('stream', stream);
    assertName('group', group);
    assertName('consumer', consumer);
    assertIds('ids', ids);
    if (ids.length === 0) return [];
    const parsed = ids.map((id) => parseId('XCLAIM', id));
    const { target, found } = this.#group(stream, group);
    return found.claim(target, consumer, parsed, 0, true, this.#now()).claimed.map(({ entry }) => entry.id);
  }

  async pending(stream: string, group: string, options: PendingOptions): Promise<PendingEntry[]> {
    this.#open('pending');
    assertName('stream', stream);
    assertName('group', group);
    assertOptions(options);
    assertCount('count', options.count);
    const startText = options.start ?? '-';
    const endText = options.end ?? '+';
    assertRangeBound('start', startText);
    assertRangeBound('end', endText);
    if (options.consumer !== undefined) assertName('consumer', options.consumer);
    const minIdleMs = options.minIdleMs ?? 0;
    assertCount('minIdleMs', minIdleMs, 0);
    const start = parseBound('XPENDING', startText, 'start');
    const end = parseBound('XPENDING', endText, 'end');
    const { found } = this.#group(stream, group);
    const now = this.#now();
    return found.pending(start, end, options.count, minIdleMs, options.consumer, now).map((item) => ({
      id: item.id,
      consumer: item.consumer.name,
      idleMs: Math.max(0, now - item.deliveryTime),
      deliveries: item.deliveryCount,
    }));
  }

  async add(stream: string, fields: StreamFields, options: AddOptions = {}): Promise<string> {
    this.#open('add');
    assertName('stream', stream);
    assertFields(fields);
    assertOptions(options);
    return this.#add(stream, fields, options.maxLen);
  }

  async range(stream: string, options: RangeOptions = {}): Promise<RangeEntry[]> {
    this.#open('range');
    assertName('stream', stream);
    assertOptions(options);
    const startText = options.start ?? '-';
    const endText = options.end ?? '+';
    assertRangeBound('start', startText);
    assertRangeBound('end', endText);
    if (options.count !== undefined) assertCount('count', options.count);
    const start = parseBound('XRANGE', startText, 'start');
    const end = parseBound('XRANGE', endText, 'end');
    const target = this.#streams.get(stream);
    if (target === undefined) return [];
    return target
      .range(start, end, options.count ?? 0)
      .map((entry) => ({ id: entry.id, fields: { ...entry.fields } }));
  }

  async delete(stream: string, ids: readonly string[]): Promise<number> {
    this.#open('delete');
    assertName('stream', stream);
    assertIds('ids', ids);
    const target = this.#streams.get(stream);
    if (target === undefined || ids.length === 0) return 0;
    let deleted = 0;
    // Parse every id first: like XDEL, a bad id deletes nothing.
    for (const id of ids.map((text) => parseId('XDEL', text))) if (target.delete(id)) deleted++;
    return deleted;
  }

  async length(stream: string): Promise<number> {
    this.#open('length');
    assertName('stream', stream);
    return this.#streams.get(stream)?.length ?? 0;
  }

  async groups(stream: string): Promise<GroupInfo[]> {
    this.#open('groups');
    assertName('stream', stream);
    const target = this.#streams.get(stream);
    if (target === undefined) return [];
    return [...target.groups.values()]
      .sort((a, b) => byteOrder(a.name, b.name))
      .map((group) => ({
        name: group.name,
        consumers: group.consumers.size,
        pending: group.pel.size,
        lastDeliveredId: group.lastId.id,
        entriesRead: group.entriesRead,
        lag: target.lagOf(group),
      }));
  }

  async consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    this.#open('consumers');
    assertName('stream', stream);
    assertName('group', group);
    const { found } = this.#group(stream, group);
    const now = this.#now();
    return [...found.consumers.values()]
      .sort((a, b) => byteOrder(a.name, b.name))
      .map((consumer) => ({
        name: consumer.name,
        pending: consumer.pending.size,
        idleMs: Math.max(0, now - consumer.seenTime),
        inactiveMs: null,
      }));
  }

  async deleteConsumer(stream: string, group: string, consumer: string): Promise<number> {
    this.#open('deleteConsumer');
    assertName('stream', stream);
    assertName('group', group);
    assertName('consumer', consumer);
    return this.#group(stream, group).found.deleteConsumer(consumer);
  }

  async destroyGroup(stream: string, group: string): Promise<boolean> {
    this.#open('destroyGroup');
    assertName('stream', stream);
    assertName('group', group);
    const target = this.#streams.get(stream);
    if (target === undefined || !target.groups.delete(group)) return false;
    // Like Redis, signal the key: readers blocked on the destroyed group get NOGROUP.
    this.#serveBlocked(stream);
    return true;
  }

  async deadLetter(letter: DeadLetterWrite): Promise<string> {
    this.#open('deadLetter');
    assertOptions(letter, 'letter');
    assertName('deadStream', letter.deadStream);
    assertName('sourceStream', letter.sourceStream);
    assertName('group', letter.group);
    assertId('id', letter.id);
    assertFields(letter.fields);
    // Written first, like the Redis storage: a missing source group raises only after the dead letter exists.
    const id = this.#add(letter.deadStream, letter.fields, letter.maxLen);
    this.#group(letter.sourceStream, letter.group).found.ack([canonicalId('XACK', letter.id)]);
    return id;
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
    if (!this.#streams.delete(stream)) return false;
    this.#serveBlocked(stream);
    return true;
  }

  /** Reject blocked reads with `StorageClosedError`, cancel their timers and drop every stream. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = Promise.resolve();
      this.#blocked.rejectAll(() => new StorageClosedError('readGroup'));
      this.#streams.clear();
    }
    return this.#closing;
  }

  #add(stream: string, fields: StreamFields, maxLen: number | undefined): string {
    if (maxLen !== undefined) assertCount('maxLen', maxLen);
    const target = this.#streamOrCreate(stream);
    const entry = target.append({ ...fields }, this.#now());
    if (maxLen !== undefined) target.trim(maxLen);
    this.#serveBlocked(stream);
    return entry.id;
  }

  /**
   * Redis' `serveClientsBlockedOnStreamKey`: in blocking order, a reader whose group is gone gets
   * NOGROUP, a reader whose group has entries past its last delivered id is served; others wait on.
   */
  #serveBlocked(stream: string): void {
    const target = this.#streams.get(stream);
    for (const read of this.#blocked.on(stream)) {
      const group = target?.groups.get(read.group);
      if (target === undefined || group === undefined) {
        this.#blocked.settle(read, { error: new NoGroupError(stream, read.group) });
      } else if (compareStreamIds(target.lastId, group.lastId) > 0) {
        const now = this.#now();
        group.consumer(read.consumer, now);
        this.#blocked.settle(read, {
          entries: group.readNew(target, read.consumer, read.count, now).map(toStreamEntry),
        });
      }
    }
  }

  #open(method: string): void {
    if (this.#closing !== undefined) throw new StorageClosedError(method);
  }

  #now(): number {
    return Math.max(0, Math.floor(this.#clock.now()));
  }

  #streamOrCreate(name: string): MemoryStream {
    let target = this.#streams.get(name);
    if (target === undefined) {
      target = new MemoryStream();
      this.#streams.set(name, target);
    }
    return target;
  }

  #group(stream: string, group: string): { target: MemoryStream; found: MemoryGroup } {
    const target = this.#streams.get(stream);
    const found = target?.groups.get(group);
    if (target === undefined || found === undefined) throw new NoGroupError(stream, group);
    return { target, found };
  }
}

function toStreamEntry({ entry, deliveries }: Delivery): StreamEntry {
  return { id: entry.id, fields: { ...entry.fields }, deliveries };
}

function toClaimResult(outcome: ClaimOutcome): ClaimResult {
  return {
    cursor: outcome.cursor,
    entries: outcome.claimed.map(toStreamEntry),
    deletedIds: outcome.deletedIds,
  };
}

function assertOptions(value: unknown, what = 'options'): void {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `Expected \`${what}\` to be an object, got ${value === null ? 'null' : typeof value}`,
    );
  }
}
