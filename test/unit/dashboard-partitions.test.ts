// Leased partitions on the dashboard, over real HTTP: the view in the event stream's `init` names
// each partition's owner (as `runtime.snapshot().partitions` has it), the live feed sends the owner
// change when the other runtime stops, and /metrics counts lease changes and the partitions owned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';
import { type LeasedPair, PARTITIONS, startLeasedPair } from '../helpers/leased-pair.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

checkLeaksAtFileEnd(); // the pair and its dashboard are shared by the tests

interface PartitionView {
  number: number;
  of: string;
  owner: string | null;
  mine: boolean;
}

/** The parts of `init` and `update` data these tests read. */
interface FeedData {
  view?: { consumers: { id: string; stream: string; partition: PartitionView }[] };
  diff?: { consumers?: Record<string, { partition?: PartitionView }> } | null;
}
type FeedEvent = { event: string; data: FeedData };

/** Read the event stream until `done(events)`; returns every event read. */
async function readEvents(url: URL, done: (events: FeedEvent[]) => boolean): Promise<FeedEvent[]> {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: FeedEvent[] = [];
  let text = '';
  try {
    while (!done(events)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      let end = text.indexOf('\n\n');
      while (end >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
        end = text.indexOf('\n\n');
      }
    }
  } finally {
    abort.abort();
  }
  return events;
}

describe('dashboard: leased partitions and their owners', () => {
  let pair: LeasedPair;
  beforeAll(async () => {
    pair = await startLeasedPair();
    await pair.settled(PARTITIONS / 2);
  }, 30_000);
  afterAll(async () => {
    await pair?.close();
  });

  it("puts each partition's owner in the view, as the snapshot has it, and sends owner changes live", async () => {
    const url = new URL('/events', pair.dashboard.url);
    const snapshot = pair.a.snapshot().partitions ?? [];
    const [init] = await readEvents(url, (events) => events.length > 0);
    expect(init?.event).toBe('init');
    const views = init?.data.view?.consumers ?? [];
    expect(views).toHaveLength(PARTITIONS);
    const bToken = snapshot.find((p) => !p.mine)?.owner;
    expect(bToken).toMatch(/^pod-b\//);
    for (const p of snapshot) {
      const view = views.find((v) => v.id === p.consumerId);
      expect(view?.stream).toBe(`orders:{${p.partition}}`);
      expect(view?.partition).toEqual({ number: p.partition, of: 'orders', owner: p.owner, mine: p.mine });
    }
    expect(views.filter((v) => v.partition.mine)).toHaveLength(PARTITIONS / 2);
    expect(views.filter((v) => v.partition.owner === bToken)).toHaveLength(PARTITIONS / 2);

    // b stops: it releases its leases at once, a takes them; the feed sends the new owners.
    const taken = new Set<number>();
    const watching = readEvents(url, (events) => {
      for (const { event, data } of events) {
        if (event !== 'update') continue;
        for (const fields of Object.values(data.diff?.consumers ?? {})) {
          if (fields.partition?.mine) taken.add(fields.partition.number);
        }
      }
      return taken.size === PARTITIONS / 2;
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the page is watching
    await pair.b.stop();
    await watching;
    const wasB = snapshot.filter((p) => !p.mine).map((p) => p.partition);
    expect([...taken].sort()).toEqual(wasB.sort());
  }, 30_000);

  it('counts lease changes and the partitions owned in /metrics', async () => {
    await pair.settled(PARTITIONS);
    await new Promise((resolve) => setTimeout(resolve, 150)); // the metrics reuse a snapshot ≤ 100 ms old
    const text = await (await fetch(new URL('/metrics', pair.dashboard.url))).text();
    const samples = parsePrometheusText(text);
    const labels = { stream: 'orders', group: 'billing', consumer: 'pod-a' };
    expect(sampleValue(samples, 'streamvisor_partitions_owned', labels)).toBe(PARTITIONS);
    const changes = (change: string) =>
      samples.samples
        .filter((s) => s.name === 'streamvisor_partition_lease_changes_total' && s.labels.change === change)
        .reduce((sum, s) => {
          expect(s.labels).toMatchObject({ group: 'billing', consumer: 'pod-a' });
          expect(s.labels.stream).toMatch(/^orders:\{[0-3]\}$/);
          return sum + s.value;
        }, 0);
    // a acquired its two, then b's two when b stopped (and whatever it handed b while b joined).
    expect(changes('acquired')).toBeGreaterThanOrEqual(PARTITIONS);
    expect(changes('acquired') - changes('released') - changes('lost')).toBe(PARTITIONS);
  });
});
