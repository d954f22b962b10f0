import { register as globalRegistry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { ConsumerStats } from '../../src/actors/consumer-stats.js';
import {
  createMetrics,
  type GroupInfo,
  type MetricsSource,
  NonRetryableError,
  Router,
} from '../../src/index.js';
import type { ConsumerSnapshot, RuntimeSnapshot } from '../../src/runtime/runtime-snapshot.js';
import { createTestRuntime } from '../../src/testing/index.js';
import { consumerSnapshot } from '../helpers/consumer-snapshot.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const A = { stream: 'orders', group: 'billing', consumer: 'a' };
const B = { stream: 'orders', group: 'billing', consumer: 'b' };

function consumerOf(labels: typeof A, values: Partial<ConsumerSnapshot>): ConsumerSnapshot {
  return consumerSnapshot({
    id: `${labels.stream}/${labels.group}/${labels.consumer}`,
    ...labels,
    ...values,
  });
}

/** A stand-in runtime: fixed counters, one stream with one group. */
function fakeSource(groups: () => Promise<GroupInfo[]>) {
  const snapshot: RuntimeSnapshot = {
    status: 'running',
    consumers: [
      consumerOf(A, {
        processed: 120,
        failed: 7,
        retried: 5,
        restarts: 2,
        inFlight: 3,
        deadLettered: 3,
        deadLetteredByReason: { 'handler-error': 1, 'non-retryable': 2 },
        published: 9,
      }),
      consumerOf(B, { processed: 4 }),
    ],
  };
  const stats = new Map(snapshot.consumers.map((c) => [c.id, new ConsumerStats()]));
  const source = {
    snapshot: () => snapshot,
    stats: (id: string) => stats.get(id),
    storage: { groups: vi.fn(groups) },
    consumers: snapshot.consumers.map((c) => ({
      id: c.id,
      stream: c.stream,
      group: c.group,
      consumer: c.consumer,
    })),
  } as unknown as MetricsSource;
  return { source, stats, ids: snapshot.consumers.map((c) => c.id) };
}

const billing: GroupInfo = {
  name: 'billing',
  consumers: 2,
  pending: 9,
  lastDeliveredId: '5-0',
  entriesRead: 40,
  lag: 11,
};

describe('createMetrics', () => {
  it('exports every counter and gauge with stream, group and consumer labels', async () => {
    const { source } = fakeSource(async () => [billing, { ...billing, name: 'other', pending: 99 }]);
    const metrics = createMetrics(source);
    const text = await metrics.metrics();
    const exposition = parsePrometheusText(text);
    expect(exposition.types.get('streamvisor_messages_processed_total')).toBe('counter');
    expect(exposition.types.get('streamvisor_handler_duration_seconds')).toBe('histogram');
    expect(exposition.types.get('streamvisor_group_lag')).toBe('gauge');
    const v = (name: string, labels: Record<string, string>) => sampleValue(exposition, name, labels);
    expect(v('streamvisor_messages_processed_total', A)).toBe(120);
    expect(v('streamvisor_messages_processed_total', B)).toBe(4);
    expect(v('streamvisor_handler_failures_total', A)).toBe(7);
    expect(v('streamvisor_retries_total', A)).toBe(5);
    expect(v('streamvisor_consumer_restarts_total', A)).toBe(2);
    expect(v('streamvisor_in_flight', A)).toBe(3);
    expect(exposition.types.get('streamvisor_outputs_published_total')).toBe('counter');
    expect(v('streamvisor_outputs_published_total', A)).toBe(9);
    expect(v('streamvisor_outputs_published_total', B)).toBe(0);
    expect(v('streamvisor_dead_letters_total', { ...A, reason: 'handler-error' })).toBe(1);
    expect(v('streamvisor_dead_letters_total', { ...A, reason: 'non-retryable' })).toBe(2);
    expect(v('streamvisor_group_pending', { stream: 'orders', group: 'billing' })).toBe(9);
    expect(v('streamvisor_group_lag', { stream: 'orders', group: 'billing' })).toBe(11);
    // Groups the runtime does not read are not exported; one group shared by two consumers is one series.
    expect(exposition.samples.filter((s) => s.name === 'streamvisor_group_pending')).toHaveLength(1);
    expect(text).toContain(
      'streamvisor_messages_processed_total{stream="orders",group="billing",consumer="a"} 120\n',
    );
    metrics.close();
  });

  it('records handler durations from ConsumerStats.onHandlerDuration into the histogram', async () => {
    const { source, stats, ids } = fakeSource(async () => [billing]);
    const metrics = createMetrics(source, { buckets: [0.01, 0.1, 1] });
    const a = stats.get(ids[0]!)!;
    for (const ms of [4, 40, 400, 4000]) a.onHandlerDuration?.(ms, 't', true);
    const exposition = parsePrometheusText(await metrics.metrics());
    const bucket = (le: string) =>
      sampleValue(exposition, 'streamvisor_handler_duration_seconds_bucket', { ...A, le });
    expect([bucket('0.01'), bucket('0.1'), bucket('1'), bucket('+Inf')]).toEqual([1, 2, 3, 4]);
    expect(sampleValue(exposition, 'streamvisor_handler_duration_seconds_count', A)).toBe(4);
    expect(sampleValue(exposition, 'streamvisor_handler_duration_seconds_sum', A)).toBeCloseTo(4.444, 6);
    metrics.close();
    expect(a.onHandlerDuration).toBeUndefined();
  });

  it('counts a duration equal to a bucket bound in that bucket (le is "less or equal")', async () => {
    const { source, stats, ids } = fakeSource(async () => [billing]);
    const metrics = createMetrics(source, { buckets: [0.01, 0.1] });
    stats.get(ids[0]!)!.onHandlerDuration?.(10, 't', true);
    const exposition = parsePrometheusText(await metrics.metrics());
    expect(sampleValue(exposition, 'streamvisor_handler_duration_seconds_bucket', { ...A, le: '0.01' })).toBe(
      1,
    );
    metrics.close();
  });

  it('keeps one registry per exporter and never touches the global one', async () => {
    const { source, stats, ids } = fakeSource(async () => [billing]);
    const first = createMetrics(source);
    const second = createMetrics(source);
    expect(first.registry).not.toBe(second.registry);
    stats.get(ids[0]!)!.onHandlerDuration?.(20, 't', true);
    for (const metrics of [first, second]) {
      const exposition = parsePrometheusText(await metrics.metrics());
      expect(sampleValue(exposition, 'streamvisor_handler_duration_seconds_count', A)).toBe(1);
    }
    first.close();
    stats.get(ids[0]!)!.onHandlerDuration?.(20, 't', true);
    const exposition = parsePrometheusText(await second.metrics());
    expect(sampleValue(exposition, 'streamvisor_handler_duration_seconds_count', A)).toBe(2);
    second.close();
    // Nothing watches: the handler is no longer timed.
    expect(stats.get(ids[0]!)!.onHandlerDuration).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toContain('streamvisor_');
  });

  it('leaves out pending and lag when XINFO GROUPS fails, and still answers', async () => {
    const { source } = fakeSource(async () => {
      throw new Error('connection lost');
    });
    const metrics = createMetrics(source);
    const exposition = parsePrometheusText(await metrics.metrics());
    expect(exposition.samples.some((s) => s.name === 'streamvisor_group_pending')).toBe(false);
    expect(sampleValue(exposition, 'streamvisor_messages_processed_total', A)).toBe(120);
    metrics.close();
  });

  it("matches a running runtime's counters (simulated clock: retries wait no real time)", async () => {
    const router = new Router();
    const failedOnce = new Set<string>();
    router.on('ok', async () => {});
    router.on('flaky', async (message) => {
      if (failedOnce.has(message.id)) return;
      failedOnce.add(message.id);
      throw new Error('flaky');
    });
    router.on('poison', async () => {
      throw new NonRetryableError('rejected');
    });
    const t = createTestRuntime({
      router,
      consumers: [
        {
          stream: 'jobs',
          group: 'workers',
          consumer: 'w',
          concurrency: 4,
          blockMs: 50,
          retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 5 } },
        },
      ],
    });
    const metrics = createMetrics(t.runtime);
    await t.start();
    try {
      for (let i = 0; i < 10; i++) await t.publish('jobs', 'ok');
      for (let i = 0; i < 3; i++) await t.publish('jobs', 'flaky');
      for (let i = 0; i < 2; i++) await t.publish('jobs', 'poison');
      await t.storage.add('jobs', { payload: '{}' }); // no type: dead-lettered as missing-type
      await t.waitFor(() => {
        const c = t.runtime.snapshot().consumers[0]!;
        return c.processed + c.deadLettered === 16;
      });
      const c = t.runtime.snapshot().consumers[0]!;
      const labels = { stream: 'jobs', group: 'workers', consumer: 'w' };
      const exposition = parsePrometheusText(await metrics.metrics());
      const v = (name: string, extra: Record<string, string> = {}) =>
        sampleValue(exposition, name, { ...labels, ...extra });
      expect(v('streamvisor_messages_processed_total')).toBe(c.processed);
      expect(c.processed).toBe(13);
      expect(v('streamvisor_handler_failures_total')).toBe(c.failed);
      expect(c.failed).toBe(3);
      expect(v('streamvisor_retries_total')).toBe(c.retried);
      expect(c.retried).toBe(3);
      expect(v('streamvisor_dead_letters_total', { reason: 'non-retryable' })).toBe(2);
      expect(v('streamvisor_dead_letters_total', { reason: 'missing-type' })).toBe(1);
      expect(v('streamvisor_in_flight')).toBe(c.inFlight);
      expect(v('streamvisor_consumer_restarts_total')).toBe(0);
      // Every handler call is observed: 10 ok + 3 flaky × 2 attempts + 2 poison.
      expect(v('streamvisor_handler_duration_seconds_count')).toBe(18);
      const [group] = await t.storage.groups('jobs');
      expect(sampleValue(exposition, 'streamvisor_group_lag', { stream: 'jobs', group: 'workers' })).toBe(
        group!.lag,
      );
    } finally {
      metrics.close();
      await t.stop({ timeoutMs: 1000 });
    }
  });
});
