import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RuntimeEvent } from '../../src/actors/runtime-events.js';
import { type DashboardSource, LiveFeed } from '../../src/dashboard/live-feed.js';
import { buildStatecharts } from '../../src/dashboard/statechart.js';
import type { TimelineEntry } from '../../src/dashboard/timeline.js';
import type { ViewDiff } from '../../src/dashboard/view.js';
import type { ConsumerSnapshot, RuntimeSnapshot } from '../../src/runtime/runtime-snapshot.js';
import { consumerSnapshot } from '../helpers/consumer-snapshot.js';

function consumer(id: string): ConsumerSnapshot {
  return consumerSnapshot({
    id,
    consumer: id,
    concurrency: 1,
    workers: [{ id: 'w0', state: 'idle', messageId: null, batchSize: null, attempt: 0 }],
  });
}

function fakeRuntime() {
  const snapshot: RuntimeSnapshot = { status: 'running', consumers: [consumer('a'), consumer('b')] };
  const listeners = new Set<(event: RuntimeEvent) => void>();
  const groups = vi.fn(async () => [
    { name: 'g', consumers: 2, pending: 5, lastDeliveredId: '1-0', entriesRead: 10, lag: 2 },
  ]);
  const source = {
    snapshot: () => structuredClone(snapshot),
    subscribe: (listener: (event: RuntimeEvent) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    storage: { groups },
    consumers: snapshot.consumers.map((c) => ({ id: c.id, stream: c.stream, group: c.group })),
  } as unknown as DashboardSource;
  const emit = (event: RuntimeEvent) => {
    for (const listener of listeners) listener(event);
  };
  return { source, snapshot, emit, groups, listeners };
}

describe('LiveFeed', () => {
  let updates: { diff: ViewDiff | null; timeline: TimelineEntry[] }[];
  beforeEach(() => {
    vi.useFakeTimers();
    updates = [];
  });
  afterEach(() => vi.useRealTimers());

  it('sends at most one aggregated diff per sample, whatever the message rate', async () => {
    const { source, snapshot } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    feed.setWatched(true);
    for (let ms = 0; ms < 1000; ms++) {
      snapshot.consumers[0]!.processed += 5; // 5,000 messages a second on consumer a
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(updates.length).toBeLessThanOrEqual(10);
    expect(updates.length).toBeGreaterThanOrEqual(9);
    for (const update of updates) {
      expect(update.diff?.consumers?.a?.processed).toBeGreaterThan(0);
      expect(update.diff!.consumers!.a!.state).toBeUndefined();
      // b processes nothing: it only appears for the group numbers the first poll brought.
      for (const key of Object.keys(update.diff!.consumers!.b ?? {}))
        expect(['pending', 'lag']).toContain(key);
    }
    feed.close();
  });

  it('sends nothing while nothing changes, and nothing while no page watches', async () => {
    const { source, snapshot } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    snapshot.consumers[1]!.state = 'backoff';
    await vi.advanceTimersByTimeAsync(1000);
    expect(updates).toHaveLength(0);
    feed.setWatched(true);
    await vi.advanceTimersByTimeAsync(950); // the first group poll (pending/lag, rate) is one change
    const before = updates.length;
    await vi.advanceTimersByTimeAsync(50);
    await vi.advanceTimersByTimeAsync(500);
    expect(updates.length - before).toBeLessThanOrEqual(1);
    feed.close();
  });

  it('reports state changes, pending, lag and processed/s', async () => {
    const { source, snapshot, groups } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    feed.setWatched(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(groups).toHaveBeenCalledWith('orders');
    expect(updates.at(-1)?.diff?.consumers?.a).toMatchObject({ pending: 5, lag: 2 });
    snapshot.consumers[0]!.processed = 300;
    snapshot.consumers[0]!.state = 'dispatching';
    await vi.advanceTimersByTimeAsync(100);
    expect(updates.at(-1)?.diff?.consumers?.a).toEqual({ processed: 300, state: 'dispatching' });
    await vi.advanceTimersByTimeAsync(900);
    expect(feed.current().view.consumers[0]!.rate).toBe(300);
    feed.close();
  });

  it('reports the keys waiting behind a failing message', async () => {
    const { source, snapshot } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    feed.setWatched(true);
    await vi.advanceTimersByTimeAsync(100);
    snapshot.consumers[1]!.keysWaiting = 3;
    await vi.advanceTimersByTimeAsync(100);
    expect(updates.at(-1)?.diff?.consumers).toEqual({ b: { keysWaiting: 3 } });
    expect(feed.current().view.consumers[1]!.keysWaiting).toBe(3);
    feed.close();
  });

  it('reports the outputs a consumer wrote with ctx.publish', async () => {
    const { source, snapshot } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    feed.setWatched(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(feed.current().view.consumers[0]!.published).toBe(0);
    snapshot.consumers[0]!.published = 12;
    await vi.advanceTimersByTimeAsync(100);
    expect(updates.at(-1)?.diff?.consumers).toEqual({ a: { published: 12 } });
    expect(feed.current().view.consumers[0]!.published).toBe(12);
    feed.close();
  });

  it('caps dead letters per sample in the timeline and sums the rest', async () => {
    const { source, emit } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    feed.setWatched(true);
    for (let i = 0; i < 50; i++) {
      emit({
        type: 'message.dead-lettered',
        at: i,
        consumerId: 'a',
        messageId: `${i}-0`,
        messageType: 't',
        reason: 'non-retryable',
        error: 'bad',
        deadLetterId: `${i}-1`,
      });
    }
    emit({ type: 'consumer.exited', at: 60, consumerId: 'b', reason: 'nogroup', error: 'NOGROUP' });
    emit({ type: 'consumer.group-created', at: 61, consumerId: 'b', startId: '7-0' });
    await vi.advanceTimersByTimeAsync(100);
    const texts = updates.flatMap((u) => u.timeline.map((e) => e.text));
    expect(texts.filter((t) => t.startsWith('dead letter'))).toHaveLength(3);
    expect(texts).toContain('+47 more dead letters');
    expect(texts).toContain('NOGROUP healed: group recreated at 7-0');
    expect(feed.current().timeline).toHaveLength(6);
    feed.close();
  });

  it('unsubscribes from the runtime on close', () => {
    const { source, listeners } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: () => {} });
    expect(listeners.size).toBe(1);
    feed.close();
    expect(listeners.size).toBe(0);
  });
});

describe('buildStatecharts', () => {
  it("lays out each machine's own states and transitions", async () => {
    const { consumer: chart, worker, supervisor } = await buildStatecharts();
    expect(chart.nodes.map((n) => n.id)).toEqual(
      expect.arrayContaining([
        'creatingGroup',
        'recovering',
        'polling',
        'dispatching',
        'backoff',
        'draining',
      ]),
    );
    expect(chart.nodes.find((n) => n.id === 'exited')?.kind).toBe('final');
    const edge = (c: typeof chart, id: string) => c.edges.find((e) => e.id === id);
    expect(edge(chart, 'polling->dispatching')?.label).toBe('read ✓');
    expect(edge(chart, 'backoff->creatingGroup')?.label).toBe('after backoffDelay');
    expect(edge(chart, '__any->draining')?.label).toBe('stop / io.failed');
    expect(edge(supervisor, 'stopping->stopped')?.label).toBe('always');
    expect(edge(worker, 'running->retrying')?.guards).toEqual(['attemptsLeft']);
    for (const c of [chart, worker, supervisor]) {
      for (const n of c.nodes) {
        expect(n.x + n.width).toBeLessThanOrEqual(c.width);
        expect(n.y + n.height).toBeLessThanOrEqual(c.height);
      }
      for (const e of c.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('draws the transitions without a target as loops: the supervisor restart, the read loop', async () => {
    const { consumer, supervisor } = await buildStatecharts();
    const loop = (c: typeof consumer, id: string) => c.edges.find((e) => e.id === id);
    expect(loop(consumer, 'polling->polling')).toMatchObject({
      source: 'polling',
      target: 'polling',
      label: 'read ✓',
      guards: ['readAgain'],
      targetless: true,
    });
    expect(loop(consumer, 'polling->dispatching')?.targetless).toBe(false);
    const restart = loop(supervisor, 'running->running');
    expect(restart?.targetless).toBe(true);
    expect(restart?.label.split(' / ')).toEqual(
      expect.arrayContaining(['restart', 'window.expire', 'child done', 'child error']),
    );
    // A long label is wrapped, and ELK sizes its box for every line.
    expect(restart?.labelLines.join(' / ')).toBe(restart?.label);
    expect(restart?.labelLines.length).toBeGreaterThan(1);
    for (const line of restart?.labelLines ?? []) expect(line.length).toBeLessThanOrEqual(32);
    expect(restart?.labelBox?.height).toBe(14 * (restart?.labelLines.length ?? 0));
    // The loop leaves and re-enters its own state's box.
    const box = supervisor.nodes.find((n) => n.id === 'running')!;
    const points = restart?.points ?? [];
    expect(points.length).toBeGreaterThanOrEqual(3);
    for (const p of [points[0]!, points.at(-1)!]) {
      expect(p.x).toBeGreaterThanOrEqual(box.x - 1);
      expect(p.x).toBeLessThanOrEqual(box.x + box.width + 1);
      expect(p.y).toBeGreaterThanOrEqual(box.y - 1);
      expect(p.y).toBeLessThanOrEqual(box.y + box.height + 1);
    }
  });
});
