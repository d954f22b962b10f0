import { Counter, Gauge, Registry } from 'prom-client';
import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeSnapshot } from '../runtime/runtime-snapshot.js';
import { DurationHistogram } from './duration-histogram.js';
import { watchDurations } from './duration-hooks.js';
import { readGroupNumbers } from './group-stats.js';
import { leaseMetrics } from './lease-metrics.js';
import { type GroupNumbers, groupKey } from './view.js';

/** What the metrics read from a runtime (its public API only). */
export type MetricsSource = Pick<Runtime<unknown>, 'snapshot' | 'stats' | 'storage' | 'consumers'> &
  Partial<Pick<Runtime<unknown>, 'subscribe'>>;

export interface MetricsOptions {
  /** Where the metrics are registered. @default a new `Registry` (never prom-client's global one) */
  registry?: Registry;
  /** Prefix of every metric name. @default 'streamvisor_' */
  prefix?: string;
  /** Handler duration histogram buckets, seconds. @default [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: number[];
}

export interface Metrics {
  readonly registry: Registry;
  /** The Content-Type to serve `metrics()` with. */
  readonly contentType: string;
  /** The Prometheus text exposition of every metric (reads XINFO GROUPS once per stream). */
  metrics(): Promise<string>;
  /** Stop observing handler durations. Idempotent. */
  close(): void;
}

const LABELS = ['stream', 'group', 'consumer'] as const;

/**
 * Prometheus metrics of a runtime, labelled `stream`, `group`, `consumer`: counters of processed
 * messages, failed handler attempts, in-process retries, dead letters (by `reason`), restarts and
 * entries trimmed by `retention` (`entries_trimmed_total`), outputs of `ctx.publish` written with
 * their message's ack (`outputs_published_total`); a handler duration histogram; gauges of
 * in-flight messages and of each group's pending count and lag (`group_pending`, `group_lag`,
 * labelled `stream`, `group`: they belong to the group). With leased partitions: a counter of lease
 * changes (`partition_lease_changes_total`, by `change`; counted from `runtime.subscribe` when the
 * source has it) and a gauge of the partitions this runtime owns (`partitions_owned`). Values are read
 * at scrape time; nothing is sent per message but one histogram observation.
 *
 * @example
 * const metrics = createMetrics(runtime)
 * http.createServer(async (_req, res) => {
 *   res.setHeader('Content-Type', metrics.contentType)
 *   res.end(await metrics.metrics())
 * }).listen(9464, '127.0.0.1')
 */
export function createMetrics(runtime: MetricsSource, options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'streamvisor_';
  const registers = [registry];
  const labelsOf = (c: { stream: string; group: string; consumer: string }) => ({
    stream: c.stream,
    group: c.group,
    consumer: c.consumer,
  });

  let sampled: { at: number; snapshot: RuntimeSnapshot } | null = null;
  const snapshot = (): RuntimeSnapshot => {
    const now = Date.now();
    if (!sampled || now - sampled.at > 100) sampled = { at: now, snapshot: runtime.snapshot() };
    return sampled.snapshot;
  };
  let groups: { at: number; value: Promise<Map<string, GroupNumbers>> } | null = null;
  const groupNumbers = (): Promise<Map<string, GroupNumbers>> => {
    const now = Date.now();
    if (!groups || now - groups.at > 500) {
      groups = { at: now, value: readGroupNumbers(runtime.storage, runtime.consumers) };
    }
    return groups.value;
  };

  const counter = (name: string, help: string, read: (c: RuntimeSnapshot['consumers'][number]) => number) =>
    new Counter({
      name: prefix + name,
      help,
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const c of snapshot().consumers) this.inc(labelsOf(c), read(c));
      },
    });
  counter(
    'messages_processed_total',
    'Messages whose handlers all succeeded (unrouted acks included).',
    (c) => c.processed,
  );
  counter('handler_failures_total', 'Failed handler attempts.', (c) => c.failed);
  counter('retries_total', 'Handler attempts retried in process.', (c) => c.retried);
  counter(
    'dead_letter_failures_total',
    'Dead-letter writes that failed; the message stayed pending and is dead-lettered when it comes back.',
    (c) => c.deadLetterFailures,
  );
  counter('consumer_restarts_total', 'Restarts of the consumer by its supervisor.', (c) => c.restarts);
  counter(
    'entries_trimmed_total',
    "Stream entries removed by the consumer's retention (every group had delivered and acked them).",
    (c) => c.trimmed,
  );
  counter(
    'outputs_published_total',
    "Outputs of ctx.publish written with their message's ack (an ack that found the entry acked already wrote none).",
    (c) => c.published,
  );
  new Counter({
    name: `${prefix}dead_letters_total`,
    help: 'Messages dead-lettered, by reason.',
    labelNames: [...LABELS, 'reason'],
    registers,
    collect() {
      this.reset();
      for (const c of snapshot().consumers) {
        for (const [reason, n] of Object.entries(c.deadLetteredByReason)) {
          this.inc({ ...labelsOf(c), reason }, n);
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}in_flight`,
    help: 'Messages being handled now.',
    labelNames: LABELS,
    registers,
    collect() {
      this.reset();
      for (const c of snapshot().consumers) this.set(labelsOf(c), c.inFlight);
    },
  });
  const groupGauge = (name: string, help: string, pick: (g: GroupNumbers) => number | null) =>
    new Gauge({
      name: prefix + name,
      help,
      labelNames: ['stream', 'group'],
      registers,
      async collect() {
        this.reset();
        const numbers = await groupNumbers();
        const seen = new Set<string>();
        for (const c of runtime.consumers) {
          const key = groupKey(c.stream, c.group);
          const numbersOf = numbers.get(key);
          const value = numbersOf === undefined ? null : pick(numbersOf);
          if (seen.has(key) || value === null) continue;
          seen.add(key);
          this.set({ stream: c.stream, group: c.group }, value);
        }
      },
    });
  groupGauge(
    'group_pending',
    "Entries delivered to the group and not yet acked (XINFO GROUPS 'pending').",
    (g) => g.pending,
  );
  groupGauge('group_lag', "Entries not yet delivered to the group (XINFO GROUPS 'lag').", (g) => g.lag);

  const duration = new DurationHistogram(
    `${prefix}handler_duration_seconds`,
    'Duration of one handler call, seconds.',
    options.buckets ?? [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  registry.registerMetric(duration.asMetric());
  const unwatch: (() => void)[] = [
    leaseMetrics(prefix, registry, snapshot, runtime.consumers, runtime.subscribe?.bind(runtime)),
  ];
  for (const c of runtime.consumers) {
    const stats = runtime.stats(c.id);
    if (!stats) continue;
    unwatch.push(watchDurations(stats, duration.recorder(labelsOf(c))));
  }

  let closed = false;
  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    close() {
      if (closed) return;
      closed = true;
      for (const stop of unwatch) stop();
    },
  };
}
