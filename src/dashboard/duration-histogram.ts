import type { Metric, MetricValueWithName } from 'prom-client';

type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  /** Count per bucket (not cumulative); the last one is `+Inf`. */
  counts: Float64Array;
  sum: number;
}

/**
 * A Prometheus histogram whose observation is an array increment. prom-client's `Histogram#observe`
 * validates and hashes the labels on every call (~1 µs): per handled message that was most of the
 * dashboard's cost on the hot path. Here each label set gets a recorder once; the cumulative buckets,
 * `_sum` and `_count` are built at scrape time, and prom-client's registry formats them like any of
 * its own metrics (it reads `name`, `help`, `type`, `aggregator`, `get()` and `reset()`).
 */
export class DurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  #series: Series[] = [];

  /** `bounds`: upper bounds of the buckets, seconds, ascending. */
  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  /** A recorder of durations in ms for one label set. */
  recorder(labels: Labels): (ms: number) => void {
    const series: Series = { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0 };
    this.#series.push(series);
    const bounds = this.#bounds;
    return (ms) => {
      const seconds = ms / 1000;
      let i = 0;
      for (const bound of bounds) {
        if (seconds > bound) i++;
        else break;
      }
      // i <= bounds.length < counts.length: the slot exists (the last one is +Inf).
      series.counts[i] = (series.counts[i] ?? 0) + 1;
      series.sum += seconds;
    };
  }

  /** What prom-client's registry reads at scrape time. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: MetricValueWithName<string>[];
  }> {
    const values: MetricValueWithName<string>[] = [];
    for (const { labels, counts, sum } of this.#series) {
      let cumulative = 0;
      for (const [i, count] of counts.entries()) {
        cumulative += count;
        const le = this.#bounds[i] ?? '+Inf';
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: cumulative, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const series of this.#series) {
      series.counts.fill(0);
      series.sum = 0;
    }
  }

  /** prom-client's registry takes its own metric classes; it uses only what this class has. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
