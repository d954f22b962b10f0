/**
 * An at-least-once ledger for integration and fault tests: it records the ids a test published and
 * every time a handler saw one, then reports what was lost (published, never handled), what was
 * handled more than once (allowed by at-least-once, but worth counting) and what was handled without
 * having been published (always a bug).
 *
 * @example
 * const ledger = new Ledger()
 * router.on('t', async (message) => ledger.handled(message.id, 'consumer-a'))
 * ledger.published(await storage.add(stream, { type: 't' }))
 * await ledger.waitUntilHandled(5000)
 * expect(ledger.report().lost).toEqual([])
 */
export class Ledger {
  readonly #published: string[] = [];
  readonly #publishedSet = new Set<string>();
  readonly #handled = new Map<string, number>();
  readonly #handledBy = new Map<string, Set<string>>();
  readonly #byConsumer = new Map<string, number>();
  readonly #otherwise = new Map<string, string>();
  readonly #excused = new Set<string>();
  readonly #delivered = new Set<string>();
  #waiters: Array<() => void> = [];

  /** Record an id the test published (in publishing order). */
  published(id: string): void {
    if (this.#publishedSet.has(id)) throw new Error(`Id ${id} was recorded as published twice`);
    this.#published.push(id);
    this.#publishedSet.add(id);
    this.#wake();
  }

  /** Record that a handler ran (to success) for `id`, on the consumer `by`. */
  handled(id: string, by = 'default'): void {
    this.#handled.set(id, (this.#handled.get(id) ?? 0) + 1);
    let set = this.#handledBy.get(id);
    if (set === undefined) {
      set = new Set();
      this.#handledBy.set(id, set);
    }
    set.add(by);
    this.#byConsumer.set(by, (this.#byConsumer.get(by) ?? 0) + 1);
    this.#wake();
  }

  /**
   * Record that `id` reached another defined end than a successful handler: `dead:<x-dead-reason>`
   * (found in the dead-letter stream), or e.g. `unrouted-acked`. Such an id is not lost.
   */
  settledOtherwise(id: string, path: string): void {
    this.#otherwise.set(id, path);
    this.#wake();
  }

  /** Record `id` as dead-lettered with `reason` (the entry's `x-dead-reason`). */
  deadLettered(id: string, reason: string): void {
    this.settledOtherwise(id, `dead:${reason}`);
  }

  /**
   * Record that `id` reached a consumer without running a handler (an unknown type the runtime acks
   * and counts): only such an id may later be settled as `unrouted-acked`.
   */
  delivered(id: string): void {
    this.#delivered.add(id);
    this.#wake();
  }

  /** Whether `id` was recorded as `delivered` or `handled`. */
  wasDelivered(id: string): boolean {
    return this.#delivered.has(id) || this.#handled.has(id);
  }

  /** The other end `id` reached (`dead:<reason>`, …), if any. */
  pathOf(id: string): string | undefined {
    return this.#otherwise.get(id);
  }

  /**
   * Excuse `ids` from the loss check: data a fault destroyed on purpose (FLUSHALL, a restart without
   * data) before anyone could handle it. Reported apart; an excused id that is handled counts as handled.
   * Returns how many ids were newly excused (not handled, settled or excused before).
   */
  excuse(ids: Iterable<string>): number {
    let excused = 0;
    for (const id of ids) {
      if (this.#handled.has(id) || this.#otherwise.has(id) || this.#excused.has(id)) continue;
      this.#excused.add(id);
      excused++;
    }
    return excused;
  }

  /** Whether `id` was excused (and not handled or settled since). */
  isExcused(id: string): boolean {
    return this.#excused.has(id) && !this.#handled.has(id) && !this.#otherwise.has(id);
  }

  /** Ids in publishing order. */
  get publishedIds(): readonly string[] {
    return this.#published;
  }

  /** How often `id` was handled (0 if never). */
  timesHandled(id: string): number {
    return this.#handled.get(id) ?? 0;
  }

  /** The consumers that handled `id`. */
  handlersOf(id: string): ReadonlySet<string> {
    return this.#handledBy.get(id) ?? new Set();
  }

  /** Handled count per consumer (duplicates included). */
  get byConsumer(): ReadonlyMap<string, number> {
    return this.#byConsumer;
  }

  /** Distinct published ids handled at least once. */
  get handledCount(): number {
    let count = 0;
    for (const id of this.#published) if (this.#handled.has(id)) count++;
    return count;
  }

  /**
   * Lost (published, never handled nor settled otherwise, nor excused), duplicates (handled more than
   * once), unexpected ids (handled, never published), and how many ids took each other path.
   */
  report(ids: readonly string[] = this.#published): LedgerReport {
    const lost = ids.filter(
      (id) => !this.#handled.has(id) && !this.#otherwise.has(id) && !this.#excused.has(id),
    );
    const duplicates = [...this.#handled].filter(([, n]) => n > 1).map(([id]) => id);
    const unexpected = [...this.#handled.keys()].filter((id) => !this.#publishedSet.has(id));
    const paths: Record<string, number> = {};
    for (const path of this.#otherwise.values()) paths[path] = (paths[path] ?? 0) + 1;
    const excused = [...this.#excused].filter((id) => !this.#handled.has(id) && !this.#otherwise.has(id));
    return {
      published: this.#published.length,
      handled: this.handledCount,
      lost,
      duplicates,
      unexpected,
      paths,
      excused: excused.length,
    };
  }

  /** A one-line summary of `report()` for logs and failure messages. */
  summary(): string {
    const r = this.report();
    const paths = Object.entries(r.paths)
      .map(([path, n]) => `${path} ${n}`)
      .join(', ');
    return `published ${r.published}, handled ${r.handled}, other paths {${paths}}, excused ${r.excused}, lost ${r.lost.length}, duplicates ${r.duplicates.length}, unexpected ${r.unexpected.length}`;
  }

  /** Resolves once `predicate` holds (checked on every record); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what = 'the condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        const r = this.report();
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${what}: published ${r.published}, handled ${r.handled}, lost ${r.lost.length}, duplicates ${r.duplicates.length}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(check);
    });
  }

  /** Resolves once every id published so far was handled at least once. */
  waitUntilHandled(timeoutMs: number): Promise<void> {
    const target = [...this.#published];
    return this.waitFor(() => target.every((id) => this.#handled.has(id)), timeoutMs, 'every published id');
  }

  /** Resolves once every id in `ids` was handled at least once (or settled otherwise). */
  waitUntilSettled(ids: readonly string[], timeoutMs: number): Promise<void> {
    let next = 0;
    return this.waitFor(
      () => {
        while (next < ids.length && (this.#handled.has(ids[next]!) || this.#otherwise.has(ids[next]!)))
          next++;
        return next === ids.length;
      },
      timeoutMs,
      `${ids.length} ids to be handled`,
    );
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

export interface LedgerReport {
  /** Ids published. */
  published: number;
  /** Distinct published ids handled at least once. */
  handled: number;
  /** Published, never handled. */
  lost: string[];
  /** Handled more than once. */
  duplicates: string[];
  /** Handled, never published. */
  unexpected: string[];
  /** How many ids took each other defined path (`dead:<reason>`, `unrouted-acked`, …). */
  paths: Record<string, number>;
  /** Ids a destructive fault removed before they could be handled (see `excuse`). */
  excused: number;
}
