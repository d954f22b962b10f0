/**
 * The dashboard's trend history: per consumer, a time series of processed/s, in flight, pending and
 * lag over the last `windowMs`, fed by the samples the live feed already takes (the group poll, and
 * the in-flight count of every snapshot sample in between). Nothing here runs per message.
 */
import type { DashboardView } from './view.js';

/** The series of one consumer, as parallel arrays (compact in JSON). */
export interface ConsumerTrend {
  /** Sample times, ms since epoch, oldest first. */
  at: number[];
  /** Messages processed per second over the poll interval before each sample. */
  rate: number[];
  /** The most messages in flight at once since the previous sample. */
  inFlight: number[];
  /** The group's pending count (XINFO GROUPS); `null` where it could not be read. */
  pending: (number | null)[];
  /** The group's lag (XINFO GROUPS); `null` where Redis could not tell. */
  lag: (number | null)[];
}

/** One sample of every consumer: `[rate, inFlight, pending, lag]` by consumer id. */
export interface TrendSample {
  at: number;
  consumers: Record<string, [number, number, number | null, number | null]>;
}

/** What a page needs to draw the charts: the window and every consumer's series. */
export interface TrendHistory {
  windowMs: number;
  consumers: Record<string, ConsumerTrend>;
}

/**
 * A ring of trend samples per consumer, trimmed to the last `windowMs`.
 *
 * @example
 * const trends = new Trends(300_000)
 * trends.observe(view)                      // every snapshot sample: keeps the in-flight peak
 * const sample = trends.record(Date.now(), view)   // every group poll: one point per consumer
 */
export class Trends {
  readonly windowMs: number;
  #series = new Map<string, ConsumerTrend>();
  #peak = new Map<string, number>();

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** Note the in-flight counts of a snapshot sample, so a short burst between points is not lost. */
  observe(view: DashboardView): void {
    for (const c of view.consumers) this.#peak.set(c.id, Math.max(this.#peak.get(c.id) ?? 0, c.inFlight));
  }

  /** Append one point per consumer at `at`, drop what fell out of the window; resolves the point. */
  record(at: number, view: DashboardView): TrendSample {
    const sample: TrendSample = { at, consumers: {} };
    const since = at - this.windowMs;
    for (const c of view.consumers) {
      const inFlight = Math.max(this.#peak.get(c.id) ?? 0, c.inFlight);
      let series = this.#series.get(c.id);
      if (series === undefined) {
        series = { at: [], rate: [], inFlight: [], pending: [], lag: [] };
        this.#series.set(c.id, series);
      }
      series.at.push(at);
      series.rate.push(c.rate);
      series.inFlight.push(inFlight);
      series.pending.push(c.pending);
      series.lag.push(c.lag);
      let old = 0;
      for (const t of series.at) {
        if (t >= since) break;
        old++;
      }
      if (old > 0) for (const values of Object.values(series)) values.splice(0, old);
      sample.consumers[c.id] = [c.rate, inFlight, c.pending, c.lag];
    }
    this.#peak.clear();
    return sample;
  }

  /** Every consumer's series, copied (for a page that just connected). */
  history(): TrendHistory {
    const consumers: Record<string, ConsumerTrend> = {};
    for (const [id, s] of this.#series) {
      consumers[id] = {
        at: [...s.at],
        rate: [...s.rate],
        inFlight: [...s.inFlight],
        pending: [...s.pending],
        lag: [...s.lag],
      };
    }
    return { windowMs: this.windowMs, consumers };
  }
}
