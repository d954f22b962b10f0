import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveFeed } from '../../src/dashboard/live-feed.js';
import type { TrendSample } from '../../src/dashboard/trends.js';
import { Trends } from '../../src/dashboard/trends.js';
import type { ConsumerView, DashboardView } from '../../src/dashboard/view.js';
import type { ConsumerSnapshot, DashboardSource, RuntimeSnapshot } from '../../src/index.js';
import { consumerSnapshot } from '../helpers/consumer-snapshot.js';

function consumer(id: string): ConsumerSnapshot {
  return consumerSnapshot({ id, consumer: id });
}

function fakeRuntime() {
  const snapshot: RuntimeSnapshot = { status: 'running', consumers: [consumer('a')] };
  const group = { name: 'g', consumers: 1, pending: 5, lastDeliveredId: '1-0', entriesRead: 10, lag: 2 };
  const groups = vi.fn(async () => [{ ...group }]);
  const source = {
    snapshot: () => structuredClone(snapshot),
    subscribe: () => () => {},
    storage: { groups },
    consumers: [{ id: 'a', stream: 'orders', group: 'g' }],
  } as unknown as DashboardSource;
  return { source, snapshot, group, groups };
}

const view = (fields: Partial<ConsumerView>): DashboardView => ({
  status: 'running',
  consumers: [{ id: 'a', rate: 0, inFlight: 0, pending: null, lag: null, ...fields } as ConsumerView],
});

describe('Trends', () => {
  it('keeps one point per record within the window, and the in-flight peak between records', () => {
    const trends = new Trends(10_000);
    trends.observe(view({ inFlight: 7 }));
    trends.observe(view({ inFlight: 2 }));
    expect(trends.record(1000, view({ rate: 3, inFlight: 1, pending: 4, lag: 9 }))).toEqual({
      at: 1000,
      consumers: { a: [3, 7, 4, 9] },
    });
    trends.record(2000, view({ rate: 5, inFlight: 1 }));
    expect(trends.history().consumers.a).toEqual({
      at: [1000, 2000],
      rate: [3, 5],
      inFlight: [7, 1],
      pending: [4, null],
      lag: [9, null],
    });
    trends.record(11_500, view({ rate: 1 }));
    expect(trends.history()).toMatchObject({ windowMs: 10_000, consumers: { a: { at: [2000, 11_500] } } });
  });
});

describe('LiveFeed trends', () => {
  let updates: { trend?: TrendSample }[];
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
    updates = [];
  });
  afterEach(() => vi.useRealTimers());

  it('sends a chart point with each group poll while a page watches, and no per-message work', async () => {
    const { source, snapshot, group } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    feed.setWatched(true);
    for (let ms = 0; ms < 3000; ms += 100) {
      snapshot.consumers[0]!.processed += 50; // 500/s
      snapshot.consumers[0]!.inFlight = ms === 1500 ? 6 : 1; // a burst between two polls
      group.lag = ms / 100;
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(100);
    const points = updates.flatMap((u) => (u.trend ? [u.trend] : []));
    expect(points.map((p) => p.at - 1_700_000_000_000)).toEqual([0, 1000, 2000, 3000]);
    const last = points.at(-1)!.consumers.a!;
    expect(last[0]).toBeGreaterThanOrEqual(450);
    expect(points.some((p) => p.consumers.a![1] === 6)).toBe(true);
    expect(feed.current().trends.consumers.a!.at).toHaveLength(points.length);
    feed.close();
  });

  it('samples in the background while no page watches, so a page opened later sees the last minutes', async () => {
    const { source, groups } = fakeRuntime();
    const feed = new LiveFeed(source, { sampleMs: 100, groupPollMs: 1000, send: (u) => updates.push(u) });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(updates).toHaveLength(0);
    expect(groups.mock.calls.length).toBe(12); // every 5 s, not every second
    const { trends } = feed.current();
    expect(trends.windowMs).toBe(300_000);
    expect(trends.consumers.a?.at).toHaveLength(12);
    expect(trends.consumers.a?.pending.every((p) => p === 5)).toBe(true);
    feed.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(groups.mock.calls.length).toBe(12);
  });
});
