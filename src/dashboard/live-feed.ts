import type { Runtime } from '../runtime/runtime.js';
import { watchDurations } from './duration-hooks.js';
import { readGroupNumbers } from './group-stats.js';
import { Timeline, type TimelineEntry } from './timeline.js';
import { type TrendHistory, type TrendSample, Trends } from './trends.js';
import { type TypeRow, TypeTally } from './type-tally.js';
import {
  type DashboardView,
  diffView,
  type GroupNumbers,
  toView,
  type ViewDiff,
  type ViewExtras,
} from './view.js';

/** What the dashboard reads from a runtime (its public API only; `stats` for the breakdown by type). */
export type DashboardSource = Pick<Runtime<unknown>, 'snapshot' | 'subscribe' | 'storage' | 'consumers'> &
  Partial<Pick<Runtime<unknown>, 'stats'>>;

export interface LiveFeedOptions {
  /** How often `runtime.snapshot()` is sampled while a page watches, ms. @default 100 */
  sampleMs: number;
  /** How often XINFO GROUPS is read (and processed/s computed) while a page watches, ms. @default 1000 */
  groupPollMs: number;
  /** How much trend history (charts) to keep, ms. @default 300000 */
  historyMs?: number;
  /** Receives at most one update per sample, only when something changed (`trend`: a new chart point). */
  send: (update: { diff: ViewDiff | null; timeline: TimelineEntry[]; trend?: TrendSample }) => void;
}

/** While no page watches, the trend history is still sampled, this rarely (ms), so a page opened later shows the last minutes. */
const BACKGROUND_POLL_MS = 5000;

/**
 * Samples the runtime on a timer and reports what changed: at most one aggregated update per
 * `sampleMs` for all consumers together, never one per message. Lifecycle events are collected from
 * `runtime.subscribe` all along (they are rare), so a page opened later still sees recent history.
 */
export class LiveFeed {
  #runtime: DashboardSource;
  #options: LiveFeedOptions;
  #timeline = new Timeline();
  #unsubscribe: () => void;
  #groups = new Map<string, GroupNumbers>();
  #rates = new Map<string, number>();
  #lastCounts: { at: number; processed: Map<string, number> } | null = null;
  #last: DashboardView | null = null;
  #sampler: NodeJS.Timeout | null = null;
  #poller: NodeJS.Timeout | null = null;
  #polling = false;
  #trends: Trends;
  #trend: TrendSample | null = null;
  #background: NodeJS.Timeout | null = null;
  #tally = new TypeTally();
  /** Each consumer's busiest types, read from the tally once per group poll (not per sample). */
  #types = new Map<string, TypeRow[]>();
  #extras: ViewExtras = {
    retriedMessages: (id) => this.#tally.retriedMessages(id),
    types: (id) => this.#types.get(id) ?? [],
  };
  #unwatch: (() => void)[] = [];

  constructor(runtime: DashboardSource, options: LiveFeedOptions) {
    this.#runtime = runtime;
    this.#options = options;
    this.#trends = new Trends(options.historyMs ?? 300_000);
    this.#startBackground();
    for (const c of runtime.consumers) {
      const stats = runtime.stats?.(c.id);
      if (stats) this.#unwatch.push(watchDurations(stats, this.#tally.hook(c.id)));
    }
    this.#unsubscribe = runtime.subscribe((event) => {
      this.#tally.add(event);
      this.#timeline.add(event);
      if (!this.#sampler) this.#timeline.flush();
    });
  }

  /** The whole current view and the recent timeline, for a page that just connected. */
  current(): { view: DashboardView; timeline: TimelineEntry[]; trends: TrendHistory } {
    return { view: this.#view(), timeline: this.#timeline.recent(), trends: this.#trends.history() };
  }

  /** Run the timers while at least one page watches. */
  setWatched(watched: boolean): void {
    if (watched && !this.#sampler) {
      this.#stopBackground();
      this.#last = this.#view();
      this.#sampler = setInterval(() => this.#sample(), this.#options.sampleMs);
      this.#poller = setInterval(() => void this.#poll(), this.#options.groupPollMs);
      this.#sampler.unref();
      this.#poller.unref();
      void this.#poll();
    } else if (!watched && this.#sampler) {
      clearInterval(this.#sampler);
      if (this.#poller) clearInterval(this.#poller);
      this.#sampler = null;
      this.#poller = null;
      this.#timeline.flush();
      this.#startBackground();
    }
  }

  close(): void {
    this.setWatched(false);
    this.#stopBackground();
    this.#unsubscribe();
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
  }

  #startBackground(): void {
    const every = Math.max(this.#options.groupPollMs, BACKGROUND_POLL_MS);
    this.#background ??= setInterval(() => void this.#poll(), every);
    this.#background.unref();
  }

  #stopBackground(): void {
    if (this.#background) clearInterval(this.#background);
    this.#background = null;
  }

  #view(): DashboardView {
    return toView(this.#runtime.snapshot(), this.#groups, this.#rates, this.#extras);
  }

  #sample(): void {
    const next = this.#view();
    const diff = this.#last ? diffView(this.#last, next) : null;
    this.#last = next;
    this.#trends.observe(next);
    const timeline = this.#timeline.flush();
    const trend = this.#trend;
    this.#trend = null;
    if (trend) this.#options.send({ diff, timeline, trend });
    else if (diff || timeline.length > 0) this.#options.send({ diff, timeline });
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const now = performance.now();
      const processed = new Map(this.#runtime.snapshot().consumers.map((c) => [c.id, c.processed]));
      if (this.#lastCounts) {
        const seconds = Math.max(0.001, (now - this.#lastCounts.at) / 1000);
        for (const [id, count] of processed) {
          const before = this.#lastCounts.processed.get(id) ?? count;
          this.#rates.set(id, Math.round(((count - before) / seconds) * 10) / 10);
        }
      }
      this.#lastCounts = { at: now, processed };
      for (const id of processed.keys()) this.#types.set(id, this.#tally.top(id));
      this.#groups = await readGroupNumbers(this.#runtime.storage, this.#runtime.consumers);
      const trend = this.#trends.record(Date.now(), this.#view());
      if (this.#sampler) this.#trend = trend;
    } finally {
      this.#polling = false;
    }
  }
}
