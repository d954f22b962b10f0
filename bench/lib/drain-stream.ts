import type { Redis } from 'ioredis';
import { BENCH_TYPE, createGroup, fillStream, payloadOf } from './redis.js';
import type { SettleState } from './settle.js';

/**
 * The one way every stream drain (the bare loop and every streamvisor variant) is started and
 * stopped, so their clocks mean the same thing:
 *
 * - one stream per run holds `messages − 1` pre-filled entries (`payload.i` = 0 … messages − 2);
 * - each drain gets a fresh group created at `$`, so it sees nothing; its consumer starts and blocks
 *   in `XREADGROUP` (see `waitBlocked`): that is "ready";
 * - the clock starts, then one `MULTI` rewinds the group to 0 (`XGROUP SETID`) and appends entry
 *   `messages − 1` (`XADD`), which wakes the blocked reader: all `messages` entries are now visible;
 * - the clock stops when `XINFO GROUPS` says the group has delivered that last entry and has nothing
 *   pending (see `waitSettled`);
 * - afterwards the group is destroyed and the last entry deleted, so every drain of the run reads
 *   the same entries of the same stream.
 */
export class DrainStream {
  #groups = 0;

  private constructor(
    readonly key: string,
    readonly messages: number,
  ) {}

  /** Fills `key` with `messages − 1` entries. */
  static async fill(admin: Redis, key: string, messages: number): Promise<DrainStream> {
    await fillStream(admin, key, messages - 1);
    return new DrainStream(key, messages);
  }

  /** A fresh group at `$` for one drain. */
  async openGroup(admin: Redis): Promise<DrainGroup> {
    const group = `g${++this.#groups}`;
    await createGroup(admin, this.key, group, '$');
    return new DrainGroup(admin, this, group);
  }
}

/** One drain's group on a {@link DrainStream}. */
export class DrainGroup {
  #lastId: string | undefined;

  constructor(
    private readonly admin: Redis,
    readonly stream: DrainStream,
    readonly name: string,
  ) {}

  /** Makes every entry visible to the group and wakes its blocked reader (one MULTI). */
  async release(): Promise<void> {
    const { key, messages } = this.stream;
    const replies = await this.admin
      .multi()
      .xgroup('SETID', key, this.name, '0')
      .xadd(key, '*', 'type', BENCH_TYPE, 'payload', payloadOf(messages - 1))
      .exec();
    const failed = replies?.find(([error]) => error !== null);
    if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error('release: MULTI aborted');
    this.#lastId = String(replies[1]?.[1]);
  }

  /** Redis' view: done when the last entry was delivered and nothing is pending. */
  async query(): Promise<SettleState> {
    const groups = (await this.admin.xinfo('GROUPS', this.stream.key)) as (string | number)[][];
    for (const flat of groups) {
      const info = new Map<string, string>();
      for (let k = 0; k < flat.length; k += 2) info.set(String(flat[k]), String(flat[k + 1]));
      if (info.get('name') !== this.name) continue;
      const pending = Number(info.get('pending'));
      const last = info.get('last-delivered-id');
      return { done: last === this.#lastId && pending === 0, pending, state: `${last}/${pending}` };
    }
    throw new Error(`group ${this.name} is gone from ${this.stream.key}`);
  }

  /** Destroys the group and deletes the entry `release` added. */
  async close(): Promise<void> {
    await this.admin.xgroup('DESTROY', this.stream.key, this.name);
    if (this.#lastId !== undefined) await this.admin.xdel(this.stream.key, this.#lastId);
  }
}
